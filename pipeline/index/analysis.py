"""Which analysis the documents of an index were written with, kept in its mapping's `_meta`.

Setup adds the `.english` subfields to a live index in place (an additive change), but the documents
already stored are not analysed into them until they are written again, so searches through `.english`
miss them ("elections" does not find "election"). When setup adds the subfields to an index that holds
documents, it records how many in `_meta.docs_without_english`; `newswatch index status` shows that
with the advice to migrate. A migration clears it: the new version's mapping comes from the template,
and every copied document is analysed anew.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pipeline.index.derive import flatten_properties

MARKER = "docs_without_english"
MARKER_SINCE = "english_added_at"
_CARRIED = (MARKER, MARKER_SINCE)


def has_english(properties: dict[str, Any]) -> bool:
    """True when any field of the mapping has an `.english` subfield."""
    return any(path.endswith(".english") for path in flatten_properties(properties))


def adds_english(live_properties: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when putting `wanted` onto a live mapping with `live_properties` adds the English subfields."""
    return has_english(wanted) and not has_english(live_properties)


def marker(docs: int, now: datetime) -> dict[str, Any]:
    """The `_meta` entries for an index whose `docs` documents were written without English analysis."""
    return {MARKER: docs, MARKER_SINCE: now.isoformat(timespec="seconds")} if docs > 0 else {}


def carried(live_meta: Mapping[str, Any]) -> dict[str, Any]:
    """The marker of a live mapping, to keep when setup replaces its `_meta` (ES replaces `_meta` whole)."""
    return {key: live_meta[key] for key in _CARRIED if key in live_meta}


def docs_without_english(meta: Mapping[str, Any]) -> int:
    try:
        return max(0, int(meta.get(MARKER) or 0))
    except (TypeError, ValueError):
        return 0


def migrate_command(kinds: Iterable[str]) -> str:
    return " ".join(["newswatch index migrate", *dict.fromkeys(kinds)])


def advice(pending: Mapping[str, int], kinds: Iterable[str]) -> str:
    """One message for every index (name -> documents) holding documents indexed without the English analysis."""
    held = ", ".join(f"{index} holds {docs} document(s)" for index, docs in pending.items())
    return (f"{held} indexed without the English analysis: searches for other word forms (\"elections\" "
            f"for \"election\") miss them until they are re-indexed; run `{migrate_command(kinds)}`")
