"""When to poll: which feeds are due, and adaptive intervals within each feed's bounds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.state import FeedState, FeedStateStore

FASTER = 0.5  # most entries new: poll twice as often
SLOWER = 1.5  # nothing or little new: back off
MOSTLY_NEW = 0.5
MOSTLY_OLD = 0.2


def clamp(seconds: float, feed: FeedConfig) -> int:
    return int(min(max(seconds, feed.min_interval), feed.max_interval))


def initial_interval(feed: FeedConfig, hint: int | None) -> int:
    return clamp(max(feed.min_interval, hint or 0), feed)


def next_interval(feed: FeedConfig, state: FeedState, new_ratio: float | None, changed: bool) -> int:
    """Adapt the interval: sooner when most entries are new, later when most are duplicates; never
    sooner than the feed's own ttl/sy:updatePeriod hint, always within [min_interval, max_interval]."""
    current = state.interval or initial_interval(feed, state.hint_interval)
    if not changed or new_ratio is None or new_ratio < MOSTLY_OLD:
        current *= SLOWER
    elif new_ratio >= MOSTLY_NEW:
        current *= FASTER
    if state.hint_interval:
        current = max(current, state.hint_interval)
    return clamp(current, feed)


def failure_backoff(feed: FeedConfig, failures: int, retry_after: float | None) -> int:
    """Exponential backoff after consecutive failures, at least Retry-After, capped at max_interval."""
    backoff = feed.min_interval * (2 ** max(0, failures - 1))
    return int(min(max(backoff, retry_after or 0), max(feed.max_interval, retry_after or 0)))


def due_feeds(feeds: Sequence[FeedConfig], store: FeedStateStore, now: datetime | None = None) -> list[FeedConfig]:
    """Enabled, not auto-disabled feeds whose next poll time has come (never-polled feeds first)."""
    now = now or datetime.now(UTC)
    candidates = [f for f in feeds if f.enabled]
    states = store.get_many(f.id for f in candidates)
    due: list[tuple[datetime, FeedConfig]] = []
    floor = datetime.min.replace(tzinfo=UTC)
    for feed in candidates:
        state = states.get(feed.id)
        if state is None or state.url != feed.url:
            due.append((floor, feed))
            continue
        if state.disabled:
            continue
        if state.retry_after_until and state.retry_after_until > now:
            continue
        if state.next_poll_at is None or state.next_poll_at <= now:
            due.append((state.next_poll_at or floor, feed))
    due.sort(key=lambda pair: pair[0])
    return [f for _, f in due]
