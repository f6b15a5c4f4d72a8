"""Exactly-once bookkeeping in `<prefix>-deliveries`: which matches exist, which message carries them, and
whether that message arrived.

The protocol (pipeline.alerts.run follows it; each step is safe to repeat after a crash):

1. **record** each match with `create` (id = `match_id(watch, doc)`): a match evaluated twice (the
   look-back window, a retried run, two overlapping runs) exists once. Only after the bulk succeeded does
   the watch's high-water mark move, so a crash here re-evaluates and drops nothing.
2. **assign** pending matches to a message: `delivery_id = hash(watch, match ids)` is written onto each
   match before anything is sent. A run that finds matches already assigned re-sends *that* message with
   *that* id; it never regroups them, so the receiver sees the same idempotency key again.
3. **send** with the key (webhook header `Idempotency-Key`, e-mail `Message-ID`), after recording the
   attempt on the Delivery document.
4. **mark** the Delivery delivered, then its matches. A crash between send and 4 re-sends the same message
   with the same key (the receiver can tell it is a duplicate); a crash inside 4 finds the Delivery
   delivered and only finishes marking its matches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from elasticsearch import NotFoundError, helpers

from pipeline.alerts.model import AlertMatch, Delivery
from pipeline.index.errors import IndexLayerError
from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)

PAGE = 1000


class LedgerError(IndexLayerError):
    """Elasticsearch refused a bookkeeping write; nothing was sent for the affected matches."""


@dataclass
class PendingCounts:
    assigned: int = 0  # already in a message that was not confirmed yet
    unassigned: int = 0


class Ledger:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    # 1. record -------------------------------------------------------------------------------------

    def record(self, matches: Iterable[AlertMatch]) -> list[AlertMatch]:
        """Create the matches that do not exist yet; returns the new ones. Raises LedgerError when any
        could not be written (the caller must not move the high-water mark)."""
        by_id = {m.match_id: m for m in matches}
        actions = [{"_op_type": "create", "_index": self.index, "_id": m.match_id,
                    "_source": m.model_dump(mode="json")} for m in by_id.values()]
        created: list[AlertMatch] = []
        problems: list[str] = []
        with translated(self.es):
            for ok, info in helpers.streaming_bulk(self.es, actions, chunk_size=1000, raise_on_error=False,
                                                   max_retries=3, yield_ok=True):
                (_, item), = info.items()
                if ok:
                    created.append(by_id[item["_id"]])
                elif item.get("status") != 409:  # 409: recorded before
                    problems.append(f"{item.get('_id')}: [{item.get('status')}] {item.get('error')}")
        if problems:
            raise LedgerError(f"{len(problems)} match(es) could not be recorded: {'; '.join(problems[:3])}")
        return created

    def existing(self, match_ids: Iterable[str]) -> set[str]:
        """Which of these matches are recorded already (a realtime multi-get)."""
        ids = list(dict.fromkeys(match_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 5000):
            with translated(self.es):
                resp = self.es.mget(index=self.index, ids=ids[start:start + 5000], source=False)
            found.update(d["_id"] for d in resp["docs"] if d.get("found"))
        return found

    # reading -----------------------------------------------------------------------------------------

    def refresh(self) -> None:
        with translated(self.es):
            self.es.indices.refresh(index=self.index)

    def pending(self, watch_id: str) -> list[AlertMatch]:
        """The watch's undelivered matches, oldest first (refreshes first: searches are not realtime)."""
        self.refresh()
        query = {"bool": {"filter": [{"term": {"record": "match"}}, {"term": {"watch_id": watch_id}},
                                     {"term": {"state": "pending"}}]}}
        return [AlertMatch.model_validate(s) for s in self._search_all(query, [{"matched_at": "asc"},
                                                                               {"match_id": "asc"}])]

    def pending_counts(self) -> dict[str, PendingCounts]:
        """watch id -> pending matches, assigned to a message or not (one composite aggregation, paged)."""
        self.refresh()
        out: dict[str, PendingCounts] = {}
        after: dict[str, Any] | None = None
        query = {"bool": {"filter": [{"term": {"record": "match"}}, {"term": {"state": "pending"}}]}}
        while True:
            comp: dict[str, Any] = {"size": 1000, "sources": [{"w": {"terms": {"field": "watch_id"}}}]}
            if after:
                comp["after"] = after
            with translated(self.es):
                resp = self.es.search(index=self.index, size=0, query=query, aggs={"watches": {
                    "composite": comp, "aggs": {"assigned": {"filter": {"exists": {"field": "delivery_id"}}}}}})
            agg = resp["aggregations"]["watches"]
            for b in agg["buckets"]:
                assigned = int(b["assigned"]["doc_count"])
                out[b["key"]["w"]] = PendingCounts(assigned=assigned, unassigned=int(b["doc_count"]) - assigned)
            after = agg.get("after_key")
            if not agg["buckets"] or not after:
                return out

    def matches_of(self, watch_id: str, limit: int = 20) -> list[AlertMatch]:
        query = {"bool": {"filter": [{"term": {"record": "match"}}, {"term": {"watch_id": watch_id}}]}}
        with translated(self.es):
            resp = self.es.search(index=self.index, query=query, size=limit, sort=[{"matched_at": "desc"}])
        return [AlertMatch.model_validate(h["_source"]) for h in resp["hits"]["hits"]]

    def deliveries_of(self, watch_id: str, limit: int = 20) -> list[Delivery]:
        query = {"bool": {"filter": [{"term": {"record": "delivery"}}, {"term": {"watch_id": watch_id}}]}}
        with translated(self.es):
            resp = self.es.search(index=self.index, query=query, size=limit, sort=[{"created_at": "desc"}])
        return [Delivery.model_validate(h["_source"]) for h in resp["hits"]["hits"]]

    def counts(self) -> dict[str, dict[str, int]]:
        """watch id -> {"matches", "pending", "deliveries", "failed"}, for the operators' page."""
        self.refresh()
        with translated(self.es):
            resp = self.es.search(index=self.index, size=0, aggs={"w": {"terms": {"field": "watch_id", "size": 10000},
                "aggs": {"matches": {"filter": {"term": {"record": "match"}}},
                         "pending": {"filter": {"bool": {"filter": [{"term": {"record": "match"}},
                                                                    {"term": {"state": "pending"}}]}}},
                         "deliveries": {"filter": {"bool": {"filter": [{"term": {"record": "delivery"}},
                                                                       {"term": {"state": "delivered"}}]}}},
                         "failed": {"filter": {"bool": {"filter": [{"term": {"record": "delivery"}},
                                                                   {"term": {"state": "failed"}}]}}}}}})
        return {b["key"]: {k: int(b[k]["doc_count"]) for k in ("matches", "pending", "deliveries", "failed")}
                for b in resp["aggregations"]["w"]["buckets"]}

    def _search_all(self, query: dict[str, Any], sort: list[Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after: list[Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"search_after": after} if after else {}
            with translated(self.es):
                resp = self.es.search(index=self.index, query=query, sort=sort, size=PAGE, **kwargs)
            hits = resp["hits"]["hits"]
            out.extend(h["_source"] for h in hits)
            if len(hits) < PAGE:
                return out
            after = hits[-1]["sort"]

    # 2. assign ---------------------------------------------------------------------------------------

    def assign(self, match_ids: list[str], delivery_id: str) -> None:
        self._update_all(match_ids, {"delivery_id": delivery_id}, "assign")

    # 3. the delivery record --------------------------------------------------------------------------

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        with translated(self.es):
            try:
                doc = self.es.get(index=self.index, id=delivery_id)
            except NotFoundError:
                return None
        return Delivery.model_validate(doc["_source"])

    def put_delivery(self, delivery: Delivery) -> None:
        with translated(self.es):
            self.es.index(index=self.index, id=delivery.delivery_id, document=delivery.model_dump(mode="json"))

    # 4. mark -----------------------------------------------------------------------------------------

    def mark_delivered(self, match_ids: list[str], delivery_id: str, at: datetime) -> None:
        self._update_all(match_ids, {"state": "delivered", "delivery_id": delivery_id, "delivered_at": at.isoformat()},
                         "mark")

    def _update_all(self, ids: list[str], partial: dict[str, Any], what: str) -> None:
        actions = [{"_op_type": "update", "_index": self.index, "_id": i, "doc": partial} for i in ids]
        problems: list[str] = []
        with translated(self.es):
            for ok, info in helpers.streaming_bulk(self.es, actions, chunk_size=1000, raise_on_error=False,
                                                   max_retries=3, yield_ok=False):
                (_, item), = info.items()
                if not ok:
                    problems.append(f"{item.get('_id')}: [{item.get('status')}] {item.get('error')}")
        if problems:
            raise LedgerError(f"could not {what} {len(problems)} match(es): {'; '.join(problems[:3])}")
