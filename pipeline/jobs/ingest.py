"""The ingest run as plain functions, one per DAG task, passing small manifests (ids, keys, counts).

    select_due    set up the indices (once per run); feeds that are due, in shards  -> [ShardManifest]
    poll_shard    poll one shard's feeds; spool the entries not indexed yet         -> PollManifest
    plan_chunks   this run's entries and any an earlier run left, in even chunks    -> [ChunkManifest]
    process_chunk fetch -> extract -> tag -> index one chunk, streaming (`flow`)   -> ChunkManifest
    index_chunk   what `process_chunk` could not index (the cluster was away)       -> IndexManifest
    summarize     totals for the run, written to the spool                          -> Summary
    settle_stories  earlier copies of stories that stopped growing get exact fields   -> count

A batch leaves the spool only once the next stage holds it, so a retried task re-uses what is
spooled. Elasticsearch being unreachable raises `ClusterUnavailable` (retryable) from the index
layer; per-item problems become `Event`s in newswatch-events.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from elasticsearch import Elasticsearch

from pipeline.config import Settings
from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.state import ElasticsearchFeedStateStore
from pipeline.index.errors import ClusterUnavailable
from pipeline.index.names import IndexNames
from pipeline.index.writer import IndexWriter
from pipeline.jobs import flow
from pipeline.jobs.events import failure_counts, merge_counts, outcome_event
from pipeline.jobs.sink import IndexSink, SinkReport
from pipeline.outcomes import Status
from pipeline.records import Event, FeedEntry, Processed
from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool, safe_key
from pipeline.stories.assign import Stories, stories_for

log = logging.getLogger(__name__)


class ShardManifest(TypedDict):
    run_key: str
    shard: int
    feeds: list[dict[str, Any]]  # FeedConfig, as JSON


class PollManifest(TypedDict):
    run_key: str
    shard: int
    feeds_polled: int
    feeds_not_modified: int
    new_entries: int
    skipped_existing: int
    failures: dict[str, int]


class ChunkManifest(TypedDict, total=False):
    chunk_id: str
    entries: int
    articles_indexed: int
    claims: int
    entities: int
    failures: dict[str, int]
    deferred: int  # articles kept in the spool for `index_chunk` (the cluster was away)
    skipped_existing: int
    workers: int  # pool processes that extracted and tagged it (0: the task's own process)
    redone: int  # batches a worker failed on, redone in the task's process
    missing: bool


class IndexManifest(TypedDict):
    chunk_id: str
    articles_indexed: int
    claims: int
    entities: int
    failures: dict[str, int]
    missing: bool


_PENDING_EVENTS = "pending_events"  # in a poll manifest on the spool: feed events not recorded yet


def run_key_for(run_id: str) -> str:
    return safe_key(run_id)


def es_client(settings: Settings) -> Elasticsearch:
    from pipeline.es import client_from_settings

    return client_from_settings(settings)


def state_store(es: Elasticsearch, settings: Settings) -> ElasticsearchFeedStateStore:
    return ElasticsearchFeedStateStore(es, index=IndexNames(settings.index_prefix).feeds)


def _run_of(chunk_id: str) -> str:
    return chunk_id.rsplit(".", 1)[0]


# --- steps -----------------------------------------------------------------------------------------


def select_due(settings: Settings, run_key: str, now: datetime | None = None,
               force: bool = False) -> list[ShardManifest]:
    """Set up the indices (the run's one set-up step), then pick the feeds that are due now
    (adaptive intervals live in the feed state) and split them into shards.

    `force` selects every enabled feed that is not paused or auto-disabled, due or not.
    """
    from pipeline.feeds.catalog import load_feeds
    from pipeline.feeds.schedule import due_feeds
    from pipeline.index.setup import ensure_indices

    es = es_client(settings)
    ensure_indices(es, settings)
    loaded = load_feeds(settings.feeds_file)
    store = state_store(es, settings)
    if force:
        states = store.get_many(f.id for f in loaded.feeds)
        due = [f for f in loaded.feeds if f.enabled and not (f.id in states and states[f.id].disabled)]
    else:
        due = due_feeds(loaded.feeds, store, now or datetime.now(UTC))
    for error in loaded.errors:
        log.warning("feeds file %s: %s", settings.feeds_file, error)
    size = max(1, settings.ingest_shard_size)
    log.info("%d of %d feeds due%s", len(due), len(loaded.feeds), " (forced)" if force else "")
    return [ShardManifest(run_key=run_key, shard=n, feeds=[f.model_dump(mode="json") for f in due[i:i + size]])
            for n, i in enumerate(range(0, len(due), size))]


def poll_shard(manifest: ShardManifest, spool: Spool, settings: Settings) -> PollManifest:
    """Poll the shard's feeds; spool the entries that are not indexed yet (one batch per shard) and
    record the feeds' failure events.

    Polling saves the feeds' state (validators, entries seen), so a second poll finds nothing new:
    everything a poll found is spooled before the cluster can fail us, and a retry records the
    events the first try could not, without polling again."""
    run_key, shard = manifest["run_key"], manifest["shard"]
    done_key = f"{run_key}.poll-{shard}"
    if spool.exists(RUNS, done_key):  # a retry after the poll was spooled: don't poll again
        done = spool.read_json(RUNS, done_key)
        pending = done.pop(_PENDING_EVENTS, [])
        if pending:
            IndexWriter(es_client(settings), settings).record_events([Event.model_validate(e) for e in pending])
            spool.write_json(RUNS, done_key, done)
        return PollManifest(**done)

    from pipeline.feeds.poller import poll_feeds
    from pipeline.index.writer import existing_article_ids

    feeds = [FeedConfig.model_validate(f) for f in manifest["feeds"]]
    es = es_client(settings)
    results = poll_feeds(feeds, state_store(es, settings), settings)
    events: list[Event] = []
    not_modified = 0
    entries: dict[str, FeedEntry] = {}
    for result in results:
        if result.outcome.status == Status.NOT_MODIFIED:
            not_modified += 1
        elif not result.outcome.ok:
            events.append(outcome_event("feeds", result.outcome, run_id=run_key, feed_id=result.feed_id))
        for entry in result.new_entries:
            entries.setdefault(entry.article_id, entry)

    try:
        existing = existing_article_ids(es, list(entries), settings)
    except ClusterUnavailable as exc:
        log.warning("shard %s: cannot check which entries are indexed (%s); spooling every new entry "
                    "(the process step skips what is indexed)", shard, exc)
        existing = set()
    fresh = [e for aid, e in entries.items() if aid not in existing]
    if fresh:
        spool.write(ENTRIES, f"{run_key}.s{shard}", fresh)
    polled = PollManifest(
        run_key=run_key, shard=shard, feeds_polled=len(results), feeds_not_modified=not_modified,
        new_entries=len(fresh), skipped_existing=len(entries) - len(fresh), failures=failure_counts(events))
    if events:  # kept beside the manifest until the cluster has them (ids are deterministic: upserts)
        spool.write_json(RUNS, done_key, {**polled, _PENDING_EVENTS: [e.model_dump(mode="json") for e in events]})
        IndexWriter(es, settings).record_events(events)
    spool.write_json(RUNS, done_key, dict(polled))
    return polled


def plan_chunks(run_key: str, spool: Spool, settings: Settings) -> list[ChunkManifest]:
    """Every spooled entry (this run's and any an earlier run left) regrouped into even chunks of
    at most `ingest_chunk_size`, plus tagged batches still waiting for the index (nothing is
    stranded). Idempotent: a retry regroups the same entries under the same chunk ids."""
    old = spool.keys(ENTRIES)
    entries: dict[str, dict[str, Any]] = {}
    for key in old:
        for row in spool.read(ENTRIES, key):
            entries.setdefault(row["article_id"], row)
    rows = list(entries.values())
    n_chunks = math.ceil(len(rows) / max(1, settings.ingest_chunk_size))
    size = math.ceil(len(rows) / n_chunks) if n_chunks else 0
    chunks = [f"{run_key}.c{n}" for n in range(n_chunks)]
    for n, chunk_id in enumerate(chunks):
        spool.write(ENTRIES, chunk_id, rows[n * size:(n + 1) * size])
    for key in set(old) - set(chunks):
        spool.delete(ENTRIES, key)
    waiting = [k for k in spool.keys(TAGGED) if k not in chunks]
    return [ChunkManifest(chunk_id=k) for k in chunks + waiting]


def process_chunk(chunk: ChunkManifest, spool: Spool, settings: Settings) -> ChunkManifest:
    """Fetch, extract, tag and index one chunk, streaming. What the cluster could not take (it was
    away) is spooled for `index_chunk`."""
    from pipeline.index.writer import existing_article_ids

    chunk_id = chunk["chunk_id"]
    early = settled(chunk_id, ENTRIES, spool)
    if early is not None:
        return early
    entries = [FeedEntry.model_validate(r) for r in spool.read(ENTRIES, chunk_id)]
    es = es_client(settings)
    try:  # a retry after part of the chunk was indexed: skip what is there
        existing = existing_article_ids(es, [e.article_id for e in entries], settings)
    except ClusterUnavailable:
        existing = set()  # go on: what cannot be indexed now is spooled for the index task
    fresh = [e for e in entries if e.article_id not in existing]
    done = run_chunk(chunk_id, ENTRIES, spool, settings, es, entries=fresh)
    done.update(entries=len(entries), skipped_existing=len(existing))
    return done


def settled(chunk_id: str, source_kind: str, spool: Spool) -> ChunkManifest | None:
    """The manifest of a chunk with nothing left to process: its tagged batch is already waiting
    for the index (a retry), or its input is gone (another run took it). None: process it."""
    empty = ChunkManifest(chunk_id=chunk_id, entries=0, articles_indexed=0, claims=0, entities=0, failures={})
    if spool.exists(TAGGED, chunk_id):
        waiting = Processed.model_validate(spool.read(TAGGED, chunk_id)[0])
        return ChunkManifest(**empty, deferred=len(waiting.articles))
    if not spool.exists(source_kind, chunk_id):
        return ChunkManifest(**empty, missing=True)
    return None


def run_chunk(chunk_id: str, source_kind: str, spool: Spool, settings: Settings, es: Elasticsearch, *,
              entries: Sequence[FeedEntry] = (), ready: Sequence[flow.Item] = ()) -> ChunkManifest:
    """One chunk through `flow` into the index; spools what the cluster could not take, then
    drops the chunk's input."""
    run_id = _run_of(chunk_id)
    sink = IndexSink(IndexWriter(es, settings), run_id, stories_for(es, settings))
    stats = flow.run(settings, sink.submit, entries=entries, ready=ready, run_id=run_id)
    report = sink.close()
    if report.deferred.articles or report.deferred.events:
        spool.write(TAGGED, chunk_id, [report.deferred])
    spool.delete(source_kind, chunk_id)
    log.info("chunk %s: %d items, %d indexed, %d kept for the index task; fetched in %.1fs, done in %.1fs (%s)",
             chunk_id, stats.items, report.articles_indexed, len(report.deferred.articles), stats.fetch_seconds,
             stats.seconds, f"{stats.workers} worker processes, {stats.redone} batches redone here"
             if stats.workers else "in-process")
    return ChunkManifest(**_counts(chunk_id, report), deferred=len(report.deferred.articles),
                         workers=stats.workers, redone=stats.redone)


def _counts(chunk_id: str, report: SinkReport) -> dict[str, Any]:
    return {"chunk_id": chunk_id, "articles_indexed": report.articles_indexed, "claims": report.claims,
            "entities": report.entities, "failures": dict(report.failures)}


def index_chunk(chunk: ChunkManifest, spool: Spool, settings: Settings) -> IndexManifest:
    """Index a batch the process step kept back; it leaves the spool only once it is indexed
    (raises ClusterUnavailable while the cluster is away, so the task retries with backoff)."""
    chunk_id = chunk["chunk_id"]
    if not spool.exists(TAGGED, chunk_id):
        return IndexManifest(chunk_id=chunk_id, articles_indexed=0, claims=0, entities=0, failures={},
                             missing=True)
    batch = Processed.model_validate(spool.read(TAGGED, chunk_id)[0])
    es = es_client(settings)
    sink = IndexSink(IndexWriter(es, settings), _run_of(chunk_id), stories_for(es, settings))
    sink.submit(batch)
    report = sink.close()
    if report.unavailable:
        raise ClusterUnavailable(f"indexing chunk {chunk_id}: {report.unavailable}")
    spool.delete(TAGGED, chunk_id)
    return IndexManifest(**_counts(chunk_id, report), missing=False)


def summarize(run_key: str, polls: list[PollManifest], processed: list[ChunkManifest],
              indexed: list[IndexManifest], spool: Spool) -> dict[str, Any]:
    """Totals for the run; batches still in the spool are reported as pending, never dropped."""
    done = [*processed, *indexed]
    failures = merge_counts(*(p["failures"] for p in polls), *(c.get("failures", {}) for c in done))
    summary: dict[str, Any] = {
        "run_key": run_key,
        "feeds_polled": sum(p["feeds_polled"] for p in polls),
        "feeds_not_modified": sum(p["feeds_not_modified"] for p in polls),
        "new_entries": sum(p["new_entries"] for p in polls),
        "skipped_existing": sum(p["skipped_existing"] for p in polls)
        + sum(c.get("skipped_existing", 0) for c in processed),
        "chunks": len(processed),
        "articles_indexed": sum(c.get("articles_indexed", 0) for c in done),
        "claims": sum(c.get("claims", 0) for c in done),
        "entities": sum(c.get("entities", 0) for c in done),
        "failures": sum(failures.values()),
        "failures_by_reason": failures,
        "pending_batches": spool.keys(ENTRIES) + spool.keys(TAGGED),
        "finished_at": datetime.now(UTC).isoformat(),
    }
    spool.write_json(RUNS, run_key, summary)
    for p in polls:
        spool.delete(RUNS, f"{run_key}.poll-{p['shard']}")
    return summary


def settle_stories(settings: Settings) -> int:
    """Earlier copies of stories that stopped growing get the stories' exact fields (see
    pipeline.stories.freshness); the number of article documents updated."""
    if not settings.story_clustering:
        return 0
    return Stories(es_client(settings), settings).settle(timedelta(minutes=settings.story_settle_minutes))


def summary_line(summary: dict[str, Any]) -> str:
    return ("summary: articles_indexed={articles_indexed} claims={claims} entities={entities} "
            "failures={failures}").format(**summary)
