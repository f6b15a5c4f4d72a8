"""Bulk writer: articles and their claims, in one streaming bulk, with per-item outcomes.

- Deterministic ids (article id; `<article id>:<claim id>` for claims): re-runs update in place.
- 429 and 5xx items are retried with exponential backoff; other failures are reported per article
  with the field and reason, while the good items are indexed.
- Re-tagging replaces an article's claims: the stale ones (known from the stored article's `claim_ids`
  and from a query by article id) are deleted once the new set is stored.
- When the cluster cannot be reached, ClusterUnavailable is raised; the caller still holds the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch, helpers

from pipeline.config import Settings
from pipeline.index.documents import article_document, claim_documents, event_document
from pipeline.index.names import IndexNames
from pipeline.index.transport import unavailable
from pipeline.outcomes import Outcome, Status
from pipeline.records import Event, TaggedArticle

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass
class ItemResult:
    """What happened to one article (and its claims)."""

    article_id: str
    outcome: Outcome
    claims_indexed: int = 0
    claims_deleted: int = 0
    errors: list[str] = field(default_factory=list)
    transient: bool = False  # 429/5xx or a write block: the same document may succeed later

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    @property
    def retryable(self) -> bool:
        return not self.ok and self.transient


@dataclass
class IndexReport:
    items: list[ItemResult] = field(default_factory=list)
    duplicates: int = 0

    @property
    def indexed(self) -> int:
        return sum(1 for i in self.items if i.ok)

    @property
    def failed(self) -> list[ItemResult]:
        return [i for i in self.items if not i.ok]

    @property
    def claims_indexed(self) -> int:
        return sum(i.claims_indexed for i in self.items)

    @property
    def claims_deleted(self) -> int:
        return sum(i.claims_deleted for i in self.items)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"{self.indexed} article(s) indexed, {len(self.failed)} failed, "
                f"{self.claims_indexed} claim(s) indexed, {self.claims_deleted} stale claim(s) removed")


@dataclass
class BulkFailure:
    doc_id: str
    index: str
    status: int | None
    reason: str

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRY_STATUSES


@dataclass
class EventReport:
    indexed: int = 0
    failures: list[BulkFailure] = field(default_factory=list)


def _error_text(info: dict[str, Any]) -> str:
    err = info.get("error")
    if isinstance(err, dict):
        text = f"{err.get('type', 'error')}: {err.get('reason', '')}"
        cause = err.get("caused_by")
        if isinstance(cause, dict):
            text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
        return text
    return str(err or "unknown error")


class IndexWriter:
    """Writes TaggedArticles to the articles and claims aliases, and Events to the events alias."""

    def __init__(self, es: Elasticsearch, settings: Settings, *, chunk_size: int | None = None,
                 max_retries: int = 3, initial_backoff: float = 0.5, max_backoff: float = 30.0,
                 refresh: bool | str = False) -> None:
        self.es = es
        self.settings = settings
        self.names = IndexNames(settings.index_prefix)
        # actions and bytes per bulk request (Settings.index_bulk_*); never a refresh per bulk unless
        # asked: on a cluster that would refresh every shard copy on every request
        self.chunk_size = chunk_size or settings.index_bulk_actions
        self.max_chunk_bytes = settings.index_bulk_bytes
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.refresh = refresh

    def _bulk(self, actions: Iterable[dict[str, Any]]) -> Iterator[tuple[bool, dict[str, Any]]]:
        kwargs: dict[str, Any] = {"refresh": self.refresh} if self.refresh else {}
        yield from helpers.streaming_bulk(
            self.es, actions, chunk_size=self.chunk_size, max_chunk_bytes=self.max_chunk_bytes,
            raise_on_error=False, raise_on_exception=False,
            max_retries=self.max_retries, initial_backoff=self.initial_backoff, max_backoff=self.max_backoff,
            retry_on_status=RETRY_STATUSES, yield_ok=True, **kwargs)

    def write(self, batch: list[TaggedArticle]) -> IndexReport:
        """Index the batch; returns one ItemResult per distinct article. Raises ClusterUnavailable."""
        unique: dict[str, TaggedArticle] = {}
        for tagged in batch:
            unique[tagged.article.article_id] = tagged  # the last version of an article wins
        report = IndexReport(duplicates=len(batch) - len(unique))
        if not unique:
            return report
        acknowledged: list[str] = []
        try:
            report.items = self._write(unique, acknowledged)
        except Exception as exc:
            done = set(acknowledged)
            pending = [i for i in unique if i not in done]
            if (err := unavailable(exc, self.es, indexed_ids=acknowledged, pending_ids=pending)) is not None:
                raise err from exc
            raise
        for item in report.failed:
            log.warning("article %s not indexed: %s", item.article_id, item.outcome.reason)
        return report

    def _write(self, unique: dict[str, TaggedArticle], acknowledged: list[str]) -> list[ItemResult]:
        now = datetime.now(UTC)
        previous = self._stored_claim_ids(list(unique))
        owner: dict[tuple[str, str], str] = {}
        expected: dict[str, int] = {}
        new_claims: dict[str, set[str]] = {}
        actions: list[dict[str, Any]] = []
        for article_id, tagged in unique.items():
            claims = claim_documents(tagged, now)
            new_claims[article_id] = {doc_id for doc_id, _ in claims}
            for doc_id, doc in claims:
                actions.append({"_op_type": "index", "_index": self.names.claims, "_id": doc_id, "_source": doc})
                owner[("claims", doc_id)] = article_id
            # the article goes last: its claim_ids then only name claims that were sent before it
            actions.append({"_op_type": "index", "_index": self.names.articles, "_id": article_id,
                            "_source": article_document(tagged, now)})
            owner[("articles", article_id)] = article_id
            expected[article_id] = len(claims) + 1

        errors: dict[str, list[str]] = {a: [] for a in unique}
        statuses: dict[str, list[int]] = {a: [] for a in unique}
        done: dict[str, int] = dict.fromkeys(unique, 0)
        claims_ok: dict[str, int] = dict.fromkeys(unique, 0)
        for ok, info in self._bulk(actions):
            (op, item), = info.items()
            kind = "articles" if _is_alias_of(item, self.names.articles) else "claims"
            article_id = owner.get((kind, str(item.get("_id", ""))), "")
            if not article_id:
                continue
            done[article_id] += 1
            if ok:
                if kind == "claims":
                    claims_ok[article_id] += 1
            else:
                status = item.get("status")
                statuses[article_id].append(int(status) if isinstance(status, int) else 0)
                errors[article_id].append(f"{kind}/{item.get('_id')}: [{status}] {_error_text(item)}")
            if done[article_id] == expected[article_id] and not errors[article_id]:
                acknowledged.append(article_id)

        ok_ids = [a for a in unique if not errors[a]]
        deleted = self._delete_stale_claims(ok_ids, previous, new_claims)
        results: list[ItemResult] = []
        for article_id in unique:
            transient = False
            if errors[article_id]:
                # a write block means a migration is copying the index: try again after it flips
                transient = all(s in RETRY_STATUSES or s == 0 for s in statuses[article_id]) or all(
                    "cluster_block_exception" in e for e in errors[article_id])
                status = Status.INDEX_ERROR
                reason = "; ".join(errors[article_id][:5])
                if not transient:
                    reason = f"rejected by Elasticsearch (permanent): {reason}"
                outcome = Outcome.failure(status, reason)
            else:
                outcome = Outcome.success()
            results.append(ItemResult(article_id, outcome, claims_indexed=claims_ok[article_id],
                                      claims_deleted=deleted.get(article_id, 0), errors=errors[article_id],
                                      transient=transient))
        return results

    def _stored_claim_ids(self, article_ids: list[str]) -> dict[str, set[str]]:
        """Claim ids recorded in the stored articles (a realtime get: no refresh needed)."""
        try:
            resp = self.es.mget(index=self.names.articles, ids=article_ids, source_includes=["claim_ids"])
        except ApiError as exc:
            if exc.meta.status == 404:
                return {}
            raise
        out: dict[str, set[str]] = {}
        for doc in resp.get("docs", []):
            if doc.get("found"):
                out[doc["_id"]] = set(doc.get("_source", {}).get("claim_ids", []))
        return out

    def _delete_stale_claims(self, article_ids: list[str], previous: dict[str, set[str]],
                             new_claims: dict[str, set[str]]) -> dict[str, int]:
        if not article_ids:
            return {}
        stale: dict[str, str] = {}
        for article_id in article_ids:
            for doc_id in previous.get(article_id, set()) - new_claims[article_id]:
                stale[doc_id] = article_id
        keep = [doc_id for a in article_ids for doc_id in new_claims[a]]
        query = {"bool": {"filter": [{"terms": {"article_id": article_ids}}],
                          "must_not": [{"ids": {"values": keep}}] if keep else []}}
        try:
            for hit in helpers.scan(self.es, index=self.names.claims, query={"query": query, "_source": ["article_id"]},
                                    size=1000):
                stale[hit["_id"]] = hit["_source"]["article_id"]
        except ApiError as exc:
            if exc.meta.status != 404:
                raise
        if not stale:
            return {}
        deleted: dict[str, int] = {}
        actions = [{"_op_type": "delete", "_index": self.names.claims, "_id": doc_id} for doc_id in stale]
        for ok, info in self._bulk(actions):
            (_, item), = info.items()
            if ok or item.get("status") == 404:
                if ok:
                    article_id = stale[item["_id"]]
                    deleted[article_id] = deleted.get(article_id, 0) + 1
            else:
                log.warning("could not delete stale claim %s: %s", item.get("_id"), _error_text(item))
        return deleted

    def record_events(self, events: list[Event]) -> EventReport:
        """Index events (deterministic ids: retried tasks upsert). Raises ClusterUnavailable."""
        report = EventReport()
        if not events:
            return report
        actions = [{"_op_type": "index", "_index": self.names.events, "_id": e.event_id,
                    "_source": event_document(e)} for e in events]
        try:
            for ok, info in self._bulk(actions):
                (_, item), = info.items()
                if ok:
                    report.indexed += 1
                else:
                    report.failures.append(BulkFailure(str(item.get("_id")), str(item.get("_index")),
                                                       item.get("status"), _error_text(item)))
        except Exception as exc:
            if (err := unavailable(exc, self.es, pending_ids=[e.event_id for e in events])) is not None:
                raise err from exc
            raise
        return report


def _is_alias_of(item: dict[str, Any], alias: str) -> bool:
    index = str(item.get("_index", ""))
    return index == alias or index.startswith(f"{alias}-v")


def existing_article_ids(es: Elasticsearch, ids: Iterable[str], settings: Settings) -> set[str]:
    """Which of `ids` are already indexed (realtime, so just-written articles count)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return set()
    names = IndexNames(settings.index_prefix)
    found: set[str] = set()
    try:
        for start in range(0, len(wanted), 1000):
            resp = es.mget(index=names.articles, ids=wanted[start:start + 1000], source=False)
            found.update(d["_id"] for d in resp.get("docs", []) if d.get("found"))
    except ApiError as exc:
        if exc.meta.status == 404:
            return set()
        if (err := unavailable(exc, es, pending_ids=wanted)) is not None:
            raise err from exc
        raise
    except (TransportConnectionError, ConnectionTimeout) as exc:
        raise unavailable(exc, es, pending_ids=wanted) or exc from exc
    return found

