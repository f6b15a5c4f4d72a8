"""The fingerprints index: one plain document per article (no scripts: the embedded node has none).

The inverted index on `bands` is the LSH hash table: a lookup is one `bool/should` of band-key terms,
so its cost follows the number of matching copies, not the number of stored articles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, helpers

from pipeline.index.errors import ClusterUnavailable
from pipeline.index.names import IndexNames
from pipeline.index.transport import OVERLOADED
from pipeline.records import Story
from pipeline.stories.cluster import MAX_OUTLETS, Member, copy_groups
from pipeline.stories.fingerprint import Fingerprint, decode_signature

# tasks that update copies of one story at once conflict on a document's version: the update is redone
# on the newer version (partial `doc` updates: no scripts)
CONFLICT_RETRIES = 5
# stories per article (one member each), the most band keys shared first. Each returned candidate costs the
# node a fetch of its stored document, which made the lookup most of clustering's cost when articles overlap
# a lot; measured on articles that share paragraphs with ~20 stored stories each, 10 per article grouped
# exactly as 50 did (5 started to miss copies)
CANDIDATES_PER_ARTICLE = 10
MAX_CANDIDATES = 50  # per search of a group of copies
MEMBERS_PAGE = 1_000
# stories with stale copies settled per call: a bound on one call's work, the longest quiet first
SETTLE_STORIES = 200
_MEMBER_FIELDS = ["article_id", "story_id", "story_started_at", "seen_at", "url", "outlet", "words", "shingles",
                  "written_size", "stale"]


def member_document(m: Member) -> dict[str, Any]:
    fp = m.print
    return {"article_id": fp.article_id, "story_id": m.story_id, "story_started_at": m.story_started_at.isoformat(),
            "seen_at": fp.seen_at.isoformat(), "url": fp.url, "outlet": fp.outlet, "words": fp.words,
            "shingles": fp.shingles, "bands": list(fp.bands), "signature": fp.encoded_signature(),
            "written_size": m.written_size, "stale": m.stale}


def member_from_source(src: dict[str, Any]) -> Member:
    signature = decode_signature(src.get("signature") or "")
    fp = Fingerprint(article_id=src["article_id"], seen_at=datetime.fromisoformat(src["seen_at"]),
                     url=src.get("url") or "", outlet=src.get("outlet") or "", words=int(src.get("words") or 0),
                     shingles=int(src.get("shingles") or 0), signature=signature, bands=tuple(src.get("bands") or ()))
    return Member(fp, src["story_id"], datetime.fromisoformat(src["story_started_at"]),
                  written_size=int(src.get("written_size") or 0), stale=bool(src.get("stale")))


class FingerprintStore:
    def __init__(self, es: Elasticsearch, names: IndexNames) -> None:
        self.es = es
        self.index = names.fingerprints

    def get(self, article_ids: Sequence[str]) -> dict[str, Member]:
        if not article_ids:
            return {}
        resp = self.es.mget(index=self.index, ids=list(article_ids))
        return {d["_id"]: member_from_source(d["_source"]) for d in resp["docs"] if d.get("found")}

    def put(self, members: Iterable[Member]) -> None:
        actions = [{"_op_type": "index", "_index": self.index, "_id": m.article_id, "_source": member_document(m)}
                   for m in members]
        if actions:
            self._bulk(actions)

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.index)

    def candidates(self, prints: Sequence[Fingerprint], window: timedelta) -> list[Member]:
        """Stored fingerprints sharing a band key with any of `prints`, seen within the window.

        Copies of one another in `prints` (a wire story arriving from several outlets at once) are looked
        up together, with the union of their band keys: a search's cost is mostly fixed (a term lookup per
        band key and index segment), so one search per group instead of one per copy."""
        searches: list[dict[str, Any]] = []
        for group in copy_groups(prints):
            bands = list(dict.fromkeys(b for fp in group for b in fp.bands))
            seen = [fp.seen_at for fp in group]
            searches.append({"index": self.index})
            searches.append({
                # the closest copy of each story (most band keys shared) stands for the story
                "size": min(CANDIDATES_PER_ARTICLE * len(group), MAX_CANDIDATES), "track_total_hits": False,
                "_source": {"excludes": ["bands"]}, "collapse": {"field": "story_id"},
                "query": {"bool": {
                    "should": [{"term": {"bands": b}} for b in bands], "minimum_should_match": 1,
                    "filter": [{"range": {"seen_at": {"gte": (min(seen) - window).isoformat(),
                                                      "lte": (max(seen) + window).isoformat()}}}],
                }},
            })
        if not searches:
            return []
        found: dict[str, Member] = {}
        for resp in self.es.msearch(searches=searches)["responses"]:
            if "error" in resp:
                raise RuntimeError(f"fingerprint lookup failed: {resp['error']}")
            for hit in resp["hits"]["hits"]:
                found.setdefault(hit["_id"], member_from_source(hit["_source"]))
        return list(found.values())

    def members(self, story_ids: Iterable[str]) -> dict[str, list[Member]]:
        """Every stored member of each story (without signatures: not needed to summarise)."""
        ids = sorted(set(story_ids))
        out: dict[str, list[Member]] = {s: [] for s in ids}
        if not ids:
            return out
        query = {"terms": {"story_id": ids}}
        # one plain search covers nearly every case; a scroll (several requests and a search context
        # held open) only for the rare stories bigger than a page
        resp = self.es.search(index=self.index, query=query, _source=_MEMBER_FIELDS, size=MEMBERS_PAGE,
                              track_total_hits=MEMBERS_PAGE + 1)
        hits = resp["hits"]["hits"]
        if resp["hits"]["total"]["value"] > len(hits):
            hits = helpers.scan(self.es, index=self.index, _source=_MEMBER_FIELDS, size=1000, query={"query": query})
        for hit in hits:
            m = member_from_source(hit["_source"])
            out.setdefault(m.story_id, []).append(m)
        return out

    def summaries(self, story_ids: Iterable[str]) -> dict[str, Story]:
        """Each story's fields as stored at the last refresh, counted by the index (no member is read,
        so the cost hardly grows with the story): what `summarize` gives from the members, except
        that outlets seen at the very same instant may be listed in another order."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        named = {"bool": {"must_not": [{"term": {"outlet": ""}}]}}
        resp = self.es.search(index=self.index, size=0, query={"terms": {"story_id": ids}}, aggs={"stories": {
            "terms": {"field": "story_id", "size": len(ids)},
            "aggs": {
                "first": {"top_hits": {"size": 1, "sort": [{"seen_at": "asc"}, {"article_id": "asc"}],
                                       "_source": ["url", "seen_at"]}},
                "named": {"filter": named, "aggs": {
                    "outlets": {"terms": {"field": "outlet", "size": MAX_OUTLETS, "order": [{"seen": "asc"}, {"_key": "asc"}]},
                                "aggs": {"seen": {"min": {"field": "seen_at"}}}},
                    "count": {"cardinality": {"field": "outlet"}}}},
            }}})
        out: dict[str, Story] = {}
        for b in resp["aggregations"]["stories"]["buckets"]:
            first = b["first"]["hits"]["hits"][0]["_source"]
            outlets = [o["key"] for o in b["named"]["outlets"]["buckets"]]
            out[b["key"]] = Story(id=b["key"], size=max(1, b["doc_count"]),
                                  first_seen_at=datetime.fromisoformat(first["seen_at"]), first_url=first.get("url"),
                                  outlets=outlets, outlet_count=max(1, len(outlets), b["named"]["count"]["value"]))
        return out

    def relabel(self, story_ids: Iterable[str], to: tuple[str, datetime]) -> list[Member]:
        """Move every member of `story_ids` to the story `to`; returns the members moved, as they are now."""
        story_id, started = to
        moved = [Member(m.print, story_id, started) for ms in self.members(story_ids).values() for m in ms]
        self._bulk([{"_op_type": "update", "retry_on_conflict": CONFLICT_RETRIES, "_index": self.index, "_id": m.article_id,
                     "doc": {"story_id": story_id, "story_started_at": started.isoformat()}} for m in moved])
        return moved

    def mark(self, article_id: str, *, written_size: int, stale: bool) -> dict[str, Any]:
        """The bulk action recording what story fields an article document carries now."""
        return {"_op_type": "update", "retry_on_conflict": CONFLICT_RETRIES, "_index": self.index, "_id": article_id,
                "doc": {"written_size": written_size, "stale": stale}}

    def stale_stories(self, *, before: datetime, limit: int) -> list[str]:
        """Stories with stale copies whose last copy was seen before `before`, the longest quiet first."""
        # the stories whose stale copies were seen longest ago first: a story still growing has recent ones
        candidates = list(self._last_seen({"term": {"stale": True}}, limit * 5))
        if not candidates:
            return []
        # the last copy of each: stale members are earlier copies, the latest copy is written up to date
        last = self._last_seen({"terms": {"story_id": candidates}}, len(candidates))
        cutoff = before.timestamp() * 1000
        return [sid for sid, seen in last.items() if seen is not None and seen <= cutoff][:limit]

    def _last_seen(self, query: dict[str, Any], size: int) -> dict[str, float | None]:
        """Story -> when its last member matching `query` was seen (epoch ms), the earliest first."""
        resp = self.es.search(index=self.index, size=0, query=query,
                              aggs={"stories": {"terms": {"field": "story_id", "size": size, "order": {"last": "asc"}},
                                                "aggs": {"last": {"max": {"field": "seen_at"}}}}})
        return {b["key"]: b["last"]["value"] for b in resp["aggregations"]["stories"]["buckets"]}

    def forget(self, article_ids: Sequence[str]) -> None:
        """Drop the fingerprints of articles the cluster would not take (they are in no story)."""
        self._bulk([{"_op_type": "delete", "_index": self.index, "_id": a} for a in article_ids])

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        bulk_update(self.es, actions, what="fingerprint")


def bulk_update(es: Elasticsearch, actions: list[dict[str, Any]], *, what: str) -> None:
    """Write `actions`; documents already gone (404) are fine, a busy cluster is ClusterUnavailable."""
    if not actions:
        return
    _, errors = helpers.bulk(es, actions, raise_on_error=False, max_retries=3, initial_backoff=0.5,
                             retry_on_status=(429, 502, 503, 504))
    # 404: the document went meanwhile; 409 after the retries: another task keeps writing the same
    # story, and its own last update carries the fields as they are then
    failed = [item for e in errors for item in e.values() if int(item.get("status", 0)) not in (404, 409)]
    if not failed:
        return
    if any(int(item.get("status", 0)) in OVERLOADED for item in failed):
        raise ClusterUnavailable(f"Elasticsearch refused {len(failed)} {what} write(s) as overloaded; "
                                 "nothing was dropped, the batch is retried")
    raise RuntimeError(f"{len(failed)} {what} write(s) failed, e.g. {failed[0]}")

