"""The one place the stages are chained: fetch -> extract -> tag -> index.

    entries ──fetch (asyncio, polite, guarded)──> pages ─┐
    ready pages / articles ──────────────────────────────┼─> batches ─> process pool: extract, tag
                                                         │                  │
                                                         └──────────────────┴─> IndexSink (thread)

Everything streams: a batch goes to the pool as soon as its pages have downloaded, and its result
is written to Elasticsearch while later batches are still being tagged, so fetching, the CPU work
on every core and indexing overlap. The DAG tasks, `newswatch ingest`, `newswatch extract`, the
re-tagging job and the benchmarks all come through here.

A batch a worker failed on (it raised, or the pool broke) is redone in this process, so a worker
problem costs time, never items.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.jobs import pool as pools
from pipeline.jobs.events import outcome_event
from pipeline.jobs.steps import extract_and_tag
from pipeline.records import Article, Event, FeedEntry, FetchedPage, Processed

log = logging.getLogger(__name__)

MAX_BATCH = 4  # pages per pool job: small, so the last jobs of a chunk finish together
# a chunk whose batches are not all back by then has a worker stuck on a pathological page: the
# workers are stopped and the rest is redone here (a worker that hangs again here is the task's
# execution_timeout's business)
BATCH_DEADLINE = 120.0
PAGE_DEADLINE = 5.0


@dataclass
class FlowStats:
    items: int = 0
    workers: int = 0  # pool processes used (0: this process)
    batches: int = 0
    redone: int = 0  # batches a worker failed on, redone here
    fetch_seconds: float = 0.0
    seconds: float = 0.0


Item = FetchedPage | Article


def batch_size(n_items: int, workers: int) -> int:
    """At least six batches per worker, so the last ones finish together."""
    return max(1, min(MAX_BATCH, math.ceil(n_items / (6 * max(1, workers)))))


def run(settings: Settings, sink: Callable[[Processed], None], *, entries: Sequence[FeedEntry] = (),
        ready: Sequence[Item] = (), run_id: str | None = None) -> FlowStats:
    """Fetch `entries`, extract and tag them and the `ready` items, and hand every processed batch
    to `sink` as it completes (from another thread). Failure events of the fetch stage go to the
    sink too. Returns when every batch has been handed over."""
    from pipeline.fetch import aio

    return aio.run(_run(settings, sink, list(entries), list(ready), run_id))


class _Batches:
    """Hands batches to the process pool (or, with one process, to a thread here) and each result
    to the sink; keeps the batches a worker failed on."""

    def __init__(self, sink: Callable[[Processed], None], workers: int, run_id: str | None) -> None:
        self.sink = sink
        self.workers = workers
        self.run_id = run_id
        self.pool = pools.get_pool(workers) if workers > 1 else None
        self.local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-tag")
        self.pending: list[asyncio.Future[Processed]] = []
        self.failed: list[list[Item]] = []

    def submit(self, batch: list[Item], *, here: bool = False) -> None:
        future: Future[Processed] | None = None
        if self.pool is not None and not here:
            try:
                future = self.pool.submit(extract_and_tag, batch, self.run_id)
            except (RuntimeError, pools.BrokenProcessPool) as exc:  # broken, or shut down under us
                log.warning("the process pool is unusable (%s); going on in this process", exc)
                pools.discard(self.pool)
                self.pool = None
        if future is None:
            future = self.local.submit(extract_and_tag, batch, self.run_id)
        future.add_done_callback(functools.partial(self._hand_over, batch))
        self.pending.append(asyncio.wrap_future(future))

    def _hand_over(self, batch: list[Item], future: Future[Processed]) -> None:
        try:
            result = future.result()
        except Exception as exc:  # the worker raised, died or was stopped
            log.warning("a worker failed on a batch of %d (%s: %s)", len(batch), type(exc).__name__, exc)
            self.failed.append(batch)
            return
        self.sink(result)

    async def drain(self, deadline: float) -> None:
        """Wait for every submitted batch; past `deadline` (monotonic) the workers are stopped."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        if late and self.pool is not None:
            log.warning("%d batch(es) still running at the deadline; stopping the worker processes", len(late))
            pools.kill(self.pool)
            self.pool = None
            await asyncio.wait(late)
        for future in pending:  # their failures were dealt with in _hand_over
            if future.done() and not future.cancelled():
                future.exception()

    def retry_pool(self) -> None:
        """A fresh pool for batches the last one lost (it broke, or was stopped)."""
        if self.workers > 1:
            self.pool = pools.get_pool(self.workers)

    def close(self) -> None:
        self.local.shutdown(wait=True)


async def _run(settings: Settings, sink: Callable[[Processed], None], entries: list[FeedEntry],
               ready: list[Item], run_id: str | None) -> FlowStats:
    started = time.monotonic()
    workers = pools.pool_size(settings.ingest_processes)
    stats = FlowStats(items=len(entries) + len(ready), workers=workers if workers > 1 else 0)
    if not stats.items:
        return stats
    size = batch_size(stats.items, workers)
    deadline = started + BATCH_DEADLINE + PAGE_DEADLINE * stats.items
    batches = _Batches(sink, workers, run_id)
    try:
        for i in range(0, len(ready), size):
            batches.submit(ready[i:i + size])
            stats.batches += 1
        if entries:
            batch: list[Item] = []
            failures: list[Event] = []
            async for page in _fetched(settings, entries):
                if not page.outcome.ok or page.body is None:
                    failures.append(outcome_event("fetch", page.outcome, run_id=run_id, feed_id=page.entry.feed_id,
                                                  url=page.entry.url, article_id=page.entry.article_id))
                    continue
                batch.append(page)
                if len(batch) >= size:
                    batches.submit(batch)
                    stats.batches += 1
                    batch = []
            if batch:
                batches.submit(batch)
                stats.batches += 1
            stats.fetch_seconds = time.monotonic() - started
            if failures:
                sink(Processed(events=failures))
        await batches.drain(deadline)
        # what a dying or stuck worker took down: once more in a fresh pool, then in this process
        stats.redone = len(batches.failed)
        for here in (False, True):
            failed, batches.failed = batches.failed, []
            if not failed:
                break
            if not here:
                batches.retry_pool()
            for batch in failed:
                batches.submit(batch, here=here)
            await batches.drain(time.monotonic() + BATCH_DEADLINE + PAGE_DEADLINE * len(failed) * size)
        for batch in batches.failed:  # failed here as well: a bug, not a worker problem
            raise RuntimeError(f"extraction and tagging failed on a batch of {len(batch)} in this process too")
    finally:
        batches.close()
    stats.seconds = time.monotonic() - started
    return stats


async def _fetched(settings: Settings, entries: list[FeedEntry]):  # noqa: ANN202 - async generator
    """Pages as they finish downloading (any order)."""
    from pipeline.fetch.fetcher import fetch_one
    from pipeline.fetch.http import HttpClient

    async with HttpClient(settings) as http:
        for next_page in asyncio.as_completed([fetch_one(http, e) for e in entries]):
            yield await next_page
