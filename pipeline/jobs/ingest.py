"""The ingest run as plain functions, one per DAG task, passing small manifests (ids, keys, counts).

    select_due   feeds that are due, split into shards            -> [ShardManifest]
    poll_shard   poll one shard, keep entries not yet indexed,
                 spool them in chunks                             -> PollManifest
    plan_chunks  this run's chunks plus any left by earlier runs  -> [ChunkManifest]
    process_chunk fetch -> extract -> tag one chunk, spool it      -> ChunkManifest
                 (extraction and tagging: `extract_tag`, in worker processes when worthwhile)
    index_chunk  write one tagged chunk and its failure events     -> IndexManifest
    summarize    totals for the run, written to the spool         -> Summary

Every step re-uses what is already spooled when retried, and a batch is deleted only after the next
stage holds it. Elasticsearch being unreachable raises `ClusterUnavailable` (retryable); per-item
problems become `Event`s in newswatch-events.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, TypedDict

from pipeline.config import Settings
from pipeline.jobs.events import failure_counts, merge_counts, outcome_event
from pipeline.jobs.extract_tag import (
    MIN_PAGES_PER_WORKER,
    WORKER_WARM_UP,
    Processed,
    plan_chunk_workers,
    process_in_workers,
    process_pages,
)
from pipeline.outcomes import Outcome, Status
from pipeline.records import Event, FeedEntry, FetchedPage, TaggedArticle
from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool, safe_key

log = logging.getLogger(__name__)


class ShardManifest(TypedDict):
    run_key: str
    shard: int
    feed_ids: list[str]


class PollManifest(TypedDict):
    run_key: str
    shard: int
    feeds_polled: int
    feeds_not_modified: int
    new_entries: int
    skipped_existing: int
    chunk_ids: list[str]
    failures: dict[str, int]


class ChunkManifest(TypedDict, total=False):
    chunk_id: str
    entries: int
    articles: int
    failures: dict[str, int]
    reused: bool
    missing: bool
    workers: int  # worker processes that extracted and tagged it (0: the task's own process)
    redone: int  # batches a worker failed on, redone in the task's process


class IndexManifest(TypedDict):
    chunk_id: str
    articles_indexed: int
    claims: int
    entities: int
    failures: dict[str, int]
    missing: bool


def run_key_for(run_id: str) -> str:
    return safe_key(run_id)


# --- connections -----------------------------------------------------------------------------------


def es_client(settings: Settings) -> Any:
    from pipeline.es import client_from_settings

    return client_from_settings(settings)


def state_store(es: Any, settings: Settings) -> Any:
    from pipeline.feeds.state import ElasticsearchFeedStateStore

    return ElasticsearchFeedStateStore(es, index=f"{settings.index_prefix}-feeds")


def as_unavailable(exc: Exception, what: str) -> Exception:
    """Translate a transport failure into the retryable error the DAG retries on."""
    from pipeline.index.errors import ClusterUnavailable

    if isinstance(exc, ClusterUnavailable):
        return exc
    return ClusterUnavailable(f"{what}: {type(exc).__name__}: {exc}")


def transport_errors() -> tuple[type[Exception], ...]:
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout

    return (TransportConnectionError, ConnectionTimeout)


def _record_events(es: Any, settings: Settings, events: list[Event], writer: Any = None) -> None:
    if not events:
        return
    from pipeline.index.writer import IndexWriter

    try:
        report = (writer or IndexWriter(es, settings)).record_events(events)
    except transport_errors() as exc:
        raise as_unavailable(exc, "recording events") from exc
    for failure in report.failures:
        log.warning("event %s not recorded: %s", failure.doc_id, failure.reason)


# --- steps -----------------------------------------------------------------------------------------


def select_due(settings: Settings, run_key: str, now: datetime | None = None,
               force: bool = False) -> list[ShardManifest]:
    """Feeds that are due now (adaptive intervals live in the feed state), split into shards.

    `force` selects every enabled feed that is not paused or auto-disabled, due or not.
    """
    from pipeline.feeds.catalog import load_feeds
    from pipeline.feeds.schedule import due_feeds
    from pipeline.index.setup import ensure_indices

    es = es_client(settings)
    loaded = load_feeds(settings.feeds_file)
    try:
        ensure_indices(es, settings)
        store = state_store(es, settings)
        if force:
            states = store.get_many(f.id for f in loaded.feeds)
            due = [f for f in loaded.feeds if f.enabled and not (f.id in states and states[f.id].disabled)]
        else:
            due = due_feeds(loaded.feeds, store, now or datetime.now(UTC))
    except transport_errors() as exc:
        raise as_unavailable(exc, "selecting due feeds") from exc
    for error in loaded.errors:
        log.warning("feeds file %s: %s", settings.feeds_file, error)
    size = max(1, settings.ingest_shard_size)
    ids = [f.id for f in due]
    log.info("%d of %d feeds due%s", len(ids), len(loaded.feeds), " (forced)" if force else "")
    return [ShardManifest(run_key=run_key, shard=n, feed_ids=ids[i:i + size])
            for n, i in enumerate(range(0, len(ids), size))]


def poll_shard(manifest: ShardManifest, spool: Spool, settings: Settings) -> PollManifest:
    """Poll the shard's feeds; spool the entries that are not indexed yet, in chunks."""
    run_key, shard = manifest["run_key"], manifest["shard"]
    done_key = f"{run_key}.poll-{shard}"
    if spool.exists(RUNS, done_key):  # a retry after the entries were spooled: don't poll again
        return PollManifest(**spool.read_json(RUNS, done_key))

    from pipeline.feeds.catalog import load_feeds
    from pipeline.feeds.poller import poll_feeds
    from pipeline.index.writer import existing_article_ids

    wanted = set(manifest["feed_ids"])
    feeds = [f for f in load_feeds(settings.feeds_file).feeds if f.id in wanted]
    es = es_client(settings)
    try:
        results = poll_feeds(feeds, state_store(es, settings), settings)
    except transport_errors() as exc:
        raise as_unavailable(exc, "polling feeds") from exc

    events: list[Event] = []
    not_modified = 0
    entries: dict[str, FeedEntry] = {}
    for result in results:
        outcome: Outcome = result.outcome
        if outcome.status == Status.NOT_MODIFIED:
            not_modified += 1
        elif not outcome.ok:
            events.append(outcome_event("feeds", outcome, run_id=run_key, feed_id=result.feed_id))
        for entry in result.new_entries:
            entries.setdefault(entry.article_id, entry)

    try:
        existing = existing_article_ids(es, list(entries), settings) if entries else set()
    except transport_errors() as exc:
        raise as_unavailable(exc, "checking existing articles") from exc
    fresh = [e for aid, e in entries.items() if aid not in existing]

    size = max(1, settings.ingest_chunk_size)
    chunk_ids = []
    for n, i in enumerate(range(0, len(fresh), size)):
        chunk_id = f"{run_key}.s{shard}-c{n}"
        spool.write(ENTRIES, chunk_id, fresh[i:i + size])
        chunk_ids.append(chunk_id)

    result_manifest = PollManifest(
        run_key=run_key, shard=shard, feeds_polled=len(results), feeds_not_modified=not_modified,
        new_entries=len(fresh), skipped_existing=len(entries) - len(fresh), chunk_ids=chunk_ids,
        failures=failure_counts(events),
    )
    spool.write_json(RUNS, done_key, dict(result_manifest))
    _record_events(es, settings, events)
    return result_manifest


def plan_chunks(polls: list[PollManifest], spool: Spool) -> list[ChunkManifest]:
    """This run's chunks, plus batches an earlier run left in the spool (so nothing is stranded)."""
    keys = {c for p in polls for c in p["chunk_ids"]}
    keys.update(spool.keys(ENTRIES))
    keys.update(spool.keys(TAGGED))
    return [ChunkManifest(chunk_id=k) for k in sorted(keys)]


def process_chunk(chunk: ChunkManifest, spool: Spool, settings: Settings) -> ChunkManifest:
    """Fetch, extract and tag one chunk; spool the tagged batch (articles and failure events)."""
    chunk_id = chunk["chunk_id"]
    if spool.exists(TAGGED, chunk_id):
        return tagged_counts(chunk_id, spool.read(TAGGED, chunk_id), reused=True)
    if not spool.exists(ENTRIES, chunk_id):
        return ChunkManifest(chunk_id=chunk_id, entries=0, articles=0, failures={}, missing=True)

    entries = [FeedEntry.model_validate(r) for r in spool.read(ENTRIES, chunk_id)]
    run_id = chunk_id.rsplit(".s", 1)[0]
    done = tag_entries(entries, settings, run_id=run_id)
    spool.write(TAGGED, chunk_id, done.lines)
    spool.delete(ENTRIES, chunk_id)  # the tagged batch now holds everything the entries did
    manifest = tagged_counts(chunk_id, done.lines, reused=False, entries=len(entries))
    manifest.update(workers=done.workers, redone=done.redone)
    return manifest


def tag_entries(entries: list[FeedEntry], settings: Settings, run_id: str | None) -> Processed:
    """fetch -> extract -> tag.

    Fetching runs here (asyncio, polite); extraction and tagging run in worker processes when the
    chunk is big enough to share (`ingest_processes`; 0 = one per core, see plan_chunk_workers),
    else here.
    """
    from pipeline.fetch.fetcher import fetch_pages
    from pipeline.jobs.workers import shared_pool

    workers = plan_chunk_workers(len(entries), settings)
    pool = shared_pool(WORKER_WARM_UP) if workers > 1 else None
    if pool is not None:
        pool.ensure(workers)  # the workers warm up while the pages download
    started = time.monotonic()
    pages: list[FetchedPage] = fetch_pages(entries, settings)
    fetched = time.monotonic()
    events = [outcome_event("fetch", p.outcome, run_id=run_id, feed_id=p.entry.feed_id, url=p.entry.url,
                            article_id=p.entry.article_id) for p in pages if not p.outcome.ok]
    ok = [p for p in pages if p.outcome.ok]
    if pool is not None and len(ok) >= 2 * MIN_PAGES_PER_WORKER:
        lines, redone = process_in_workers(pool, ok, run_id, workers)
        done = Processed(lines, workers, redone)
        how = f"{workers} worker processes, {redone} batches redone in-process"
    else:
        done, how = Processed(process_pages({"pages": ok, "run_id": run_id})), "in-process"
    log.info("chunk of %d entries: fetched in %.1fs, extracted and tagged in %.1fs (%s)", len(entries),
             fetched - started, time.monotonic() - fetched, how)
    fetch_events = [{"kind": "event", "data": e.model_dump(mode="json")} for e in events]
    done.lines = ([x for x in done.lines if x["kind"] == "article"] + fetch_events
                  + [x for x in done.lines if x["kind"] != "article"])
    return done


def _split(lines: list[dict[str, Any]]) -> tuple[list[TaggedArticle], list[Event]]:
    articles = [TaggedArticle.model_validate(x["data"]) for x in lines if x["kind"] == "article"]
    events = [Event.model_validate(x["data"]) for x in lines if x["kind"] == "event"]
    return articles, events


def tagged_counts(chunk_id: str, lines: list[dict[str, Any]], *, reused: bool,
                   entries: int | None = None) -> ChunkManifest:
    n_articles = sum(1 for x in lines if x["kind"] == "article")
    failures = dict(Counter(f"{x['data']['stage']}:{x['data']['status']}" for x in lines
                            if x["kind"] == "event"))
    return ChunkManifest(chunk_id=chunk_id, entries=entries if entries is not None else len(lines),
                         articles=n_articles, failures=failures, reused=reused)


def index_chunk(chunk: ChunkManifest, spool: Spool, settings: Settings) -> IndexManifest:
    """Index one tagged batch and record its failure events; delete the batch only after both."""
    chunk_id = chunk["chunk_id"]
    if not spool.exists(TAGGED, chunk_id):
        return IndexManifest(chunk_id=chunk_id, articles_indexed=0, claims=0, entities=0, failures={},
                             missing=True)
    from pipeline.index.writer import IndexWriter

    articles, events = _split(spool.read(TAGGED, chunk_id))
    es = es_client(settings)
    writer = IndexWriter(es, settings)
    try:
        report = writer.write(articles) if articles else None
    except transport_errors() as exc:
        raise as_unavailable(exc, f"indexing chunk {chunk_id}") from exc

    failed = _failed_ids(report)
    run_id = chunk_id.rsplit(".s", 1)[0]
    for t in articles:
        if t.article.article_id in failed:
            reason = failed[t.article.article_id]
            events.append(outcome_event("index", Outcome.failure(Status.INDEX_ERROR, reason), run_id=run_id,
                                        url=t.article.url, article_id=t.article.article_id))
    _record_events(es, settings, events, writer)
    spool.delete(TAGGED, chunk_id)
    ok = [t for t in articles if t.article.article_id not in failed]
    return IndexManifest(
        chunk_id=chunk_id,
        articles_indexed=len(ok),
        claims=sum(len(t.tags.claims) for t in ok),
        entities=sum(len(t.tags.entities) for t in ok),
        failures=failure_counts(events),
        missing=False,
    )


def _failed_ids(report: Any) -> dict[str, str]:
    """article id -> reason, from the writer's IndexReport (per-item failures are values)."""
    if report is None:
        return {}
    return {item.article_id: item.outcome.reason or "rejected" for item in report.failed}


def summarize(run_key: str, polls: list[PollManifest], indexed: list[IndexManifest],
              spool: Spool) -> dict[str, Any]:
    """Totals for the run; batches still in the spool are reported as pending, never dropped."""
    failures = merge_counts(*(p["failures"] for p in polls), *(i["failures"] for i in indexed))
    summary: dict[str, Any] = {
        "run_key": run_key,
        "feeds_polled": sum(p["feeds_polled"] for p in polls),
        "feeds_not_modified": sum(p["feeds_not_modified"] for p in polls),
        "new_entries": sum(p["new_entries"] for p in polls),
        "skipped_existing": sum(p["skipped_existing"] for p in polls),
        "chunks": len(indexed),
        "articles_indexed": sum(i["articles_indexed"] for i in indexed),
        "claims": sum(i["claims"] for i in indexed),
        "entities": sum(i["entities"] for i in indexed),
        "failures": sum(failures.values()),
        "failures_by_reason": failures,
        "pending_batches": spool.keys(ENTRIES) + spool.keys(TAGGED),
        "finished_at": datetime.now(UTC).isoformat(),
    }
    spool.write_json(RUNS, run_key, summary)
    for p in polls:
        spool.delete(RUNS, f"{run_key}.poll-{p['shard']}")
    return summary


def summary_line(summary: dict[str, Any]) -> str:
    return ("summary: articles_indexed={articles_indexed} claims={claims} entities={entities} "
            "failures={failures}").format(**summary)
