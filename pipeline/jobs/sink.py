"""Where processed batches go: Elasticsearch, written on one background thread while the next
batches are still being extracted and tagged.

A batch the cluster did not take because it is away (`ClusterUnavailable`) is kept whole in
`deferred`, for the caller to spool and retry; once the cluster has been found away, later batches
are deferred without trying. Articles the cluster rejected become `index` failure events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from pipeline.index.errors import ClusterUnavailable
from pipeline.index.writer import IndexWriter
from pipeline.jobs.events import outcome_event
from pipeline.outcomes import Outcome, Status
from pipeline.records import Event, Processed, TaggedArticle
from pipeline.stories.assign import Assignment, Stories, Touched

log = logging.getLogger(__name__)

GATHER_SECONDS = 2.0
GATHER_ARTICLES = 64


@dataclass(frozen=True)
class Written:
    """An article the cluster took."""

    title: str | None
    claims: int
    entities: int


@dataclass
class SinkReport:
    articles_indexed: int = 0
    claims: int = 0
    entities: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # "<stage>:<status>" -> count
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # article id -> indexed or why not
    written: dict[str, Written] = field(default_factory=dict)  # article id -> what was indexed
    events: list[Event] = field(default_factory=list)  # every failure event recorded
    deferred: Processed = field(default_factory=Processed)  # kept back: the cluster was away
    unavailable: str = ""  # why the cluster was found away


class IndexSink:
    """`on_written`, when given, is called (on the writing thread) with each batch once the report
    holds its outcomes: how callers show items as they finish."""

    def __init__(self, writer: IndexWriter, run_id: str | None, stories: Stories | None = None,
                 on_written: Callable[[Processed], None] | None = None) -> None:
        self.writer = writer
        self.run_id = run_id
        self.stories = stories
        self._touched = Touched()
        self.on_written = on_written
        self.report = SinkReport()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-index")
        self._futures: list[Future[None]] = []
        self._queued: list[Processed] = []
        self._scheduled = False
        self._flushing = False
        self._last_write = -GATHER_SECONDS
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def submit(self, batch: Processed) -> None:
        """Queue a batch for writing (thread-safe; returns at once). Batches that arrive while a
        write is under way, or soon after one began, go to Elasticsearch together in the next one."""
        with self._lock:
            self._queued.append(batch)
            self._arrived.notify()
            if not self._scheduled:
                self._scheduled = True
                self._futures.append(self._executor.submit(self._drain))

    def _drain(self) -> None:
        while True:
            with self._lock:
                # a write per GATHER_SECONDS at most (or per GATHER_ARTICLES): each write costs the
                # cluster bulks, a story lookup, a refresh and the merging of the segment it leaves,
                # whatever its size, and the pool hands over a few articles at a time. Measured
                # (bench_e2e --stories-pairs): 1 s / 32 articles made the fingerprints' refreshes and
                # merges most of clustering's cost; 2 s / 64 halves the writes
                deadline = self._last_write + GATHER_SECONDS
                while (not self._flushing and sum(len(b.articles) for b in self._queued) < GATHER_ARTICLES
                       and (wait := deadline - time.monotonic()) > 0):
                    self._arrived.wait(wait)
                batches, self._queued = self._queued, []
                if not batches:
                    self._scheduled = False
                    return
            self._last_write = time.monotonic()
            self._write(sum(batches, Processed()))

    def _assign(self, batch: Processed) -> tuple[Assignment | None, list[TaggedArticle], list[Event]]:
        """The batch's articles with their stories. Clustering that fails for another reason than an
        absent cluster costs the stories, never the articles: they go in as stories of their own and
        the failure is recorded."""
        events = list(batch.events)
        if self.stories is None or not batch.articles:
            return None, batch.articles, events
        try:
            # a story's fields as the index counts them (members are read back only for re-runs): the
            # copies written before this batch's are brought up to date at the end of the task, if at all
            assignment = self.stories.assign([t.article for t in batch.articles], summaries=False)
        except ClusterUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded as an event; the articles still go in
            log.warning("story clustering failed for %d article(s): %s", len(batch.articles), exc)
            outcome = Outcome(status=Status.INDEX_ERROR, reason=f"story clustering failed: {exc}"[:500])
            first = batch.articles[0].article
            events.append(outcome_event("story", outcome, run_id=self.run_id,
                                        subject=f"{len(batch.articles)} article(s) from {first.url}"))
            return None, batch.articles, events
        articles = [t.model_copy(update={"story": assignment.story_for(t.article.article_id)})
                    for t in batch.articles]
        return assignment, articles, events

    def close(self) -> SinkReport:
        """Wait until every queued batch is written or deferred."""
        with self._lock:
            self._flushing = True
            self._arrived.notify_all()
        while True:
            with self._lock:
                futures, self._futures = self._futures, []
            if not futures:
                break
            for f in futures:
                f.result()
        self._executor.shutdown(wait=True)
        self._finish_stories()
        return self.report

    def _finish_stories(self) -> None:
        """The other copies of the stories this sink touched get their story fields, now, as
        pipeline.stories.freshness says. If the cluster is away they keep the fields they had (the next
        copy, settling or a back-fill updates them)."""
        if self.stories is None or not self._touched:
            return
        try:
            self.stories.finish(self._touched)
        except ClusterUnavailable as exc:
            log.warning("story fields of earlier copies not updated (Elasticsearch is away: %s)", exc)
        except Exception as exc:  # noqa: BLE001 - the articles are indexed; only their copies' counts lag
            log.warning("story fields of earlier copies not updated: %s", exc)

    def _write(self, batch: Processed) -> None:
        report = self.report
        if report.unavailable:
            report.deferred = report.deferred + batch
            return
        try:
            assignment, articles, events = self._assign(batch)
            result = self.writer.write(articles) if articles else None
            failed = {i.article_id: i.outcome for i in result.failed} if result else {}
            if assignment is not None and self.stories is not None:
                self.stories.forget(list(failed))
                self._touched.add(assignment, {t.article.article_id: t.story for t in articles
                                               if t.story is not None and t.article.article_id not in failed})
            for t in batch.articles:
                outcome = failed.get(t.article.article_id)
                if outcome is not None:
                    events.append(outcome_event("index", outcome, run_id=self.run_id, url=t.article.url,
                                                article_id=t.article.article_id))
            recorded = self.writer.record_events(events)
        except ClusterUnavailable as exc:
            log.warning("Elasticsearch is away (%s); keeping %d article(s) and %d event(s) for a retry",
                        exc, len(batch.articles), len(batch.events))
            report.unavailable = str(exc)
            report.deferred = report.deferred + batch
            return
        for failure in recorded.failures:
            log.warning("event %s not recorded: %s", failure.doc_id, failure.reason)
        for t in batch.articles:
            aid = t.article.article_id
            outcome = failed.get(aid)
            report.outcomes[aid] = outcome or Outcome.success()
            if outcome is None:
                report.written[aid] = Written(t.article.title, len(t.tags.claims), len(t.tags.entities))
                report.articles_indexed += 1
                report.claims += len(t.tags.claims)
                report.entities += len(t.tags.entities)
        report.events += events
        report.failures.update(f"{e.stage}:{e.status}" for e in events)
        if self.on_written is not None:
            self.on_written(batch)

