"""Failure events: one per item that did not make it, with a deterministic id so retries upsert."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from pipeline.outcomes import Outcome
from pipeline.records import Event


def event_id(*parts: object) -> str:
    return hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:32]


def outcome_event(stage: str, outcome: Outcome, *, run_id: str | None, feed_id: str | None = None,
                  url: str | None = None, article_id: str | None = None, subject: str | None = None) -> Event:
    """The event for an item that did not make it; `subject` names an input that has no URL or
    article id yet (a local file)."""
    details = {"source": subject} if subject else {}
    subject = article_id or url or feed_id or subject
    return Event(
        event_id=event_id(stage, subject, outcome.status.value, run_id),
        at=datetime.now(UTC),
        stage=stage,
        status=outcome.status.value,
        reason=outcome.reason,
        retryable=outcome.retryable,
        feed_id=feed_id,
        url=url,
        article_id=article_id,
        run_id=run_id,
        http_status=outcome.http_status,
        details=details,
    )


def failure_counts(events: Iterable[Event]) -> dict[str, int]:
    """Counts by `<stage>:<status>`, the label the summary prints."""
    return dict(Counter(f"{e.stage}:{e.status}" for e in events))


def merge_counts(*counts: dict[str, int]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(sorted(total.items()))
