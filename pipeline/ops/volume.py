"""Articles and failures per hour over a window (default: the last 48 hours), overall or for one feed.

Articles count by `fetched_at` (when the pipeline downloaded them; re-tagging moves `indexed_at`, not
this); failures are the events of `newswatch-events` by `at`, also split by stage and status (the
reason class), each with its own hourly series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

HOUR = timedelta(hours=1)
_HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Window:
    """`hours` whole hours ending with the hour that contains `now`."""

    start: datetime
    hours: int

    @classmethod
    def last(cls, hours: int, now: datetime) -> Window:
        now = now.astimezone(UTC)
        current = now.replace(minute=0, second=0, microsecond=0)
        return cls(start=current - (hours - 1) * HOUR, hours=hours)

    @property
    def end(self) -> datetime:
        return self.start + self.hours * HOUR

    def bucket_starts(self) -> list[datetime]:
        return [self.start + i * HOUR for i in range(self.hours)]

    def range(self, field: str) -> dict[str, Any]:
        return {"range": {field: {"gte": _iso(self.start), "lt": _iso(self.end)}}}

    def histogram(self, field: str) -> dict[str, Any]:
        return {"date_histogram": {"field": field, "fixed_interval": "1h", "min_doc_count": 0,
                                   "extended_bounds": {"min": _iso(self.start), "max": _iso(self.end - HOUR)}}}

    def series(self, agg: dict[str, Any] | None) -> tuple[int, ...]:
        """Counts per hour of the window from a date_histogram answer (missing buckets are 0)."""
        counts = [0] * self.hours
        start_ms = int(self.start.timestamp() * 1000)
        for bucket in (agg or {}).get("buckets", []):
            i = (int(bucket["key"]) - start_ms) // _HOUR_MS
            if 0 <= i < self.hours:
                counts[i] += int(bucket["doc_count"])
        return tuple(counts)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ReasonSeries:
    stage: str
    status: str
    counts: tuple[int, ...]
    last_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)

    def last_hours(self, hours: int) -> int:
        return sum(self.counts[-hours:])


@dataclass(frozen=True)
class Volume:
    window: Window
    articles: tuple[int, ...]
    failures: tuple[int, ...]
    reasons: list[ReasonSeries]  # most frequent first

    @property
    def total_articles(self) -> int:
        return sum(self.articles)

    @property
    def total_failures(self) -> int:
        return sum(self.failures)

    def last_hours(self, hours: int) -> tuple[int, int]:
        """(articles, failures) of the last `hours` hours of the window."""
        return sum(self.articles[-hours:]), sum(self.failures[-hours:])


def articles_request(window: Window, feed_id: str | None = None) -> dict[str, Any]:
    filters = [window.range("fetched_at")] + ([{"term": {"feed_ids": feed_id}}] if feed_id else [])
    return {"size": 0, "track_total_hits": False, "query": {"bool": {"filter": filters}},
            "aggs": {"per_hour": window.histogram("fetched_at")}}


def failures_request(window: Window, feed_id: str | None = None, reasons: int = 12) -> dict[str, Any]:
    filters = [window.range("at")] + ([{"term": {"feed_id": feed_id}}] if feed_id else [])
    per_reason = {"per_hour": window.histogram("at"), "last": {"max": {"field": "at"}}}
    return {"size": 0, "track_total_hits": False, "query": {"bool": {"filter": filters}},
            "aggs": {"per_hour": window.histogram("at"),
                     "stage": {"terms": {"field": "stage", "size": 20},
                               "aggs": {"status": {"terms": {"field": "status", "size": reasons},
                                                   "aggs": per_reason}}}}}


def parse_volume(window: Window, articles: dict[str, Any], failures: dict[str, Any]) -> Volume:
    a_aggs, f_aggs = articles.get("aggregations", {}), failures.get("aggregations", {})
    reasons = []
    for stage in f_aggs.get("stage", {}).get("buckets", []):
        for status in stage.get("status", {}).get("buckets", []):
            last = status.get("last", {}).get("value_as_string")
            reasons.append(ReasonSeries(stage=str(stage["key"]), status=str(status["key"]),
                                        counts=window.series(status.get("per_hour")),
                                        last_at=datetime.fromisoformat(last) if last else None))
    reasons.sort(key=lambda r: (-r.total, r.stage, r.status))
    return Volume(window=window, articles=window.series(a_aggs.get("per_hour")),
                  failures=window.series(f_aggs.get("per_hour")), reasons=reasons)
