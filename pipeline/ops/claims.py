"""What a claim search hit (`pipeline.search.api.ClaimHit`) does not carry but the Claim search page
shows: the feeds its article came from, and the words naming a speaker the tagger could not resolve
(`speaker.mention` with an empty `speaker.name`). One realtime multi-get for a page of hits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


@dataclass(frozen=True)
class ClaimContext:
    feed_ids: tuple[str, ...] = ()
    feed_names: tuple[str, ...] = ()
    speaker_mention: str = ""


def claim_context(es: Elasticsearch, index: str, claim_ids: list[str]) -> dict[str, ClaimContext]:
    """claim id (the claims index's document id) -> its context; ids not found are left out."""
    ids = [i for i in dict.fromkeys(claim_ids) if i]
    if not ids:
        return {}
    from elasticsearch import NotFoundError

    try:
        with translated(es):
            resp = es.mget(index=index, ids=ids, source_includes=["feed_ids", "feed_names", "speaker.mention"])
    except NotFoundError:  # no claims index yet
        return {}
    out: dict[str, ClaimContext] = {}
    for doc in resp["docs"]:
        if not doc.get("found"):
            continue
        src = doc.get("_source", {})
        out[doc["_id"]] = ClaimContext(feed_ids=tuple(src.get("feed_ids") or ()),
                                       feed_names=tuple(src.get("feed_names") or ()),
                                       speaker_mention=str((src.get("speaker") or {}).get("mention") or ""))
    return out
