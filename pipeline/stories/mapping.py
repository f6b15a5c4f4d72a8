"""Mapping of `<prefix>-fingerprints`: one document per article, the shared state of story clustering
(registered in pipeline.index.mappings.PROPERTIES)."""

from __future__ import annotations

from typing import Any

from pipeline.index.derive import KEYWORD

_DATE = {"type": "date"}
_COUNT = {"type": "integer"}


def fingerprints_properties(english: bool) -> dict[str, Any]:
    return {
        "article_id": KEYWORD, "story_id": KEYWORD, "story_started_at": _DATE, "seen_at": _DATE,
        "url": {**KEYWORD, "index": False}, "outlet": KEYWORD, "words": _COUNT, "shingles": _COUNT,
        "bands": KEYWORD, "signature": {"type": "binary"}, "written_size": _COUNT, "stale": {"type": "boolean"},
    }
