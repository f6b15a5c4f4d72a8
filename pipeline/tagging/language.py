"""The language of a text, detected from the text itself with py3langid (a maintained fork of langid.py).

``detect(text)`` -> ``Detected(code, confidence, detector)``. ``code`` is an ISO 639-1 code, or None when
the text is too short or too mixed to tell (confidence below ``MIN_CONFIDENCE``). Only the first
``SAMPLE_CHARS`` characters are read: ample for an article (the same answer as 3,000 characters on every
corpus text), about 1 ms.

When py3langid is not installed, the extractor's stopword vote (``pipeline.extract.language``, seven
European languages) answers instead and ``detector`` says so; the tagger records which detector spoke.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from pipeline.extract.language import guess_language

log = logging.getLogger(__name__)

SAMPLE_CHARS = 1000
MIN_CONFIDENCE = 0.5
_MIN_LETTERS = 20


@dataclass(frozen=True)
class Detected:
    code: str | None
    confidence: float
    detector: str


@functools.cache
def _identifier() -> tuple[Any, str] | None:
    try:
        import py3langid
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        log.warning("py3langid is not installed; language detection falls back to a stopword vote")
        return None
    version = getattr(py3langid, "__version__", "")
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True), f"py3langid {version}".strip()


def detector_name() -> str:
    ident = _identifier()
    return ident[1] if ident else "stopwords"


def detect(text: str) -> Detected:
    """The text's language; ``code`` None when undetermined (empty, too short, or no clear winner)."""
    sample = text[:SAMPLE_CHARS] if isinstance(text, str) else ""
    ident = _identifier()
    name = ident[1] if ident else "stopwords"
    if sum(1 for ch in sample[:400] if ch.isalpha()) < _MIN_LETTERS:
        return Detected(None, 0.0, name)
    if ident is None:
        code = guess_language(sample)
        return Detected(code, 1.0 if code else 0.0, name)
    code, confidence = ident[0].classify(sample)
    return Detected(code if confidence >= MIN_CONFIDENCE else None, round(float(confidence), 4), name)
