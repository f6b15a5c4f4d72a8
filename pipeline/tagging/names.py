"""Shape tests on entity names, shared by `entities` (clustering, typing) and `entity_rules`
(context retyping), so neither has to import the other."""

from __future__ import annotations

import re

from pipeline.tagging.lexicon import ORG_WORDS

_DOTTED_NAME = re.compile(r"[A-Za-z]\.[A-Za-z]{2,}")  # "Censor.NET", "Edmunds.com"


def looks_like_org(name: str) -> bool:
    """An organisation by its shape: dotted ("Censor.NET"), all capitals ("NATO"), or containing an
    organisation word ("Ministry", "Council", ...)."""
    words = name.lower().replace(".", " ").split()
    dotted = _DOTTED_NAME.search(name) is not None
    return dotted or (name.isupper() and len(name) > 1) or any(w in ORG_WORDS for w in words)
