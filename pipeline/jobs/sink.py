"""Where processed batches go: Elasticsearch, written on one background thread while the next
batches are still being extracted and tagged.

A batch the cluster did not take because it is away (`ClusterUnavailable`) is kept whole in
`deferred`, for the caller to spool and retry; once the cluster has been found away, later batches
are deferred without trying. Articles the cluster rejected become `index` failure events.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from pipeline.index.errors import ClusterUnavailable
from pipeline.index.writer import IndexWriter
from pipeline.jobs.events import outcome_event
from pipeline.outcomes import Outcome
from pipeline.records import Event, Processed

log = logging.getLogger(__name__)


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
    def __init__(self, writer: IndexWriter, run_id: str | None) -> None:
        self.writer = writer
        self.run_id = run_id
        self.report = SinkReport()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-index")
        self._futures: list[Future[None]] = []
        self._queued: list[Processed] = []
        self._scheduled = False
        self._lock = threading.Lock()

    def submit(self, batch: Processed) -> None:
        """Queue a batch for writing (thread-safe; returns at once). Batches that arrive while a
        write is under way go to Elasticsearch together in the next one: fewer, larger bulks."""
        with self._lock:
            self._queued.append(batch)
            if not self._scheduled:
                self._scheduled = True
                self._futures.append(self._executor.submit(self._drain))

    def _drain(self) -> None:
        while True:
            with self._lock:
                batches, self._queued = self._queued, []
                if not batches:
                    self._scheduled = False
                    return
            self._write(sum(batches, Processed()))

    def close(self) -> SinkReport:
        """Wait until every queued batch is written or deferred."""
        while True:
            with self._lock:
                futures, self._futures = self._futures, []
            if not futures:
                break
            for f in futures:
                f.result()
        self._executor.shutdown(wait=True)
        return self.report

    def _write(self, batch: Processed) -> None:
        report = self.report
        if report.unavailable:
            report.deferred = report.deferred + batch
            return
        try:
            result = self.writer.write(batch.articles) if batch.articles else None
            failed = {i.article_id: i.outcome for i in result.failed} if result else {}
            events = list(batch.events)
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

