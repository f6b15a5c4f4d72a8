"""One polling cycle: conditional GET, parse, dedupe, adapt the schedule, save the state.

Each feed ends in one PollResult with an outcome (ok, not_modified, or a failure with its reason);
a feed that keeps failing is disabled with the reason. One feed's trouble never affects another's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from pipeline.config import Settings
from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.parse import parse_feed
from pipeline.feeds.schedule import failure_backoff, initial_interval, next_interval
from pipeline.feeds.state import FeedState, FeedStateStore, PollRecord
from pipeline.fetch import aio
from pipeline.fetch.classify import classify_http_status
from pipeline.fetch.http import HttpClient, HttpResult
from pipeline.outcomes import Outcome, Status
from pipeline.records import FeedEntry
from pipeline.urls import url_hash

log = logging.getLogger(__name__)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
_NOT_FEEDS = ("image/", "audio/", "video/", "application/pdf", "application/zip", "application/octet-stream")


class PollResult(BaseModel):
    feed_id: str
    url: str
    outcome: Outcome
    http_status: int | None = None
    new_entries: list[FeedEntry] = Field(default_factory=list)
    entries_seen: int = 0
    duplicates: int = 0
    skipped: int = 0
    warning: str | None = None
    next_poll_at: datetime | None = None
    elapsed_ms: float = 0.0
    disabled: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {"seen": self.entries_seen, "new": len(self.new_entries), "duplicates": self.duplicates,
                "skipped": self.skipped}


def accept_feed(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return not kind.startswith(_NOT_FEEDS)


def _entry_keys(entry: FeedEntry) -> list[str]:
    keys = [url_hash("u:" + entry.canonical_url)]
    if entry.guid:
        keys.append(url_hash("g:" + entry.guid))
    return keys


def _fresh_state(feed: FeedConfig, state: FeedState | None) -> FeedState:
    if state is None or state.url != feed.url:
        # a new feed, or its configured URL changed: validators and redirects no longer apply
        keep = state.recent_hashes if state is not None else []
        return FeedState(feed_id=feed.id, url=feed.url, recent_hashes=list(keep))
    # every other field is immutable; a shallow copy with its own hash list is enough
    return state.model_copy(update={"recent_hashes": list(state.recent_hashes)})


class Poller:
    def __init__(self, settings: Settings, http: HttpClient, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.http = http
        self.now = now or (lambda: datetime.now(UTC))

    async def poll(self, feed: FeedConfig, previous: FeedState | None) -> tuple[PollResult, FeedState]:
        result, state = await self._poll(feed, previous)
        if not result.disabled and state.last_polled_at is not None:
            state.record_poll(PollRecord(
                at=state.last_polled_at, status=result.outcome.status.value, http_status=result.http_status,
                new_entries=len(result.new_entries), entries_seen=result.entries_seen,
                reason=result.outcome.reason[:300], elapsed_ms=round(result.elapsed_ms, 1)))
        return result, state

    async def _poll(self, feed: FeedConfig, previous: FeedState | None) -> tuple[PollResult, FeedState]:
        state = _fresh_state(feed, previous)
        url = state.permanent_url or feed.url
        if state.disabled:
            return PollResult(feed_id=feed.id, url=url, disabled=True, outcome=Outcome.failure(
                Status.REFUSED, f"feed disabled: {state.disabled_reason}")), state
        now = self.now()
        headers = {"Accept": FEED_ACCEPT}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        result = await self.http.get(url, headers=headers, accept=accept_feed)
        state.last_polled_at = now
        state.total_polls += 1
        base = PollResult(feed_id=feed.id, url=url, outcome=Outcome.success(), http_status=result.status,
                          elapsed_ms=result.elapsed_ms)
        if result.permanent_url and result.permanent_url != url:
            log.info("feed %s moved permanently to %s", feed.id, result.permanent_url)
            state.permanent_url = result.permanent_url
        if result.failure is not None:
            return self._failed(feed, state, base, result.failure, None)
        status = result.status or 0
        if status == 304:
            return self._unchanged(feed, state, base, "304 Not Modified")
        if status >= 400:
            failure = classify_http_status(status, (result.body or b"")[:20000].decode("utf-8", "replace"),
                                           result.retry_after)
            assert failure is not None
            if state.permanent_url and status in (404, 410):
                state.permanent_url = None  # the redirect target went away: try the configured URL again
                return self._failed(feed, state, base, failure, result.retry_after)
            return self._failed(feed, state, base, failure, result.retry_after, gone=status == 410)
        if status >= 300:
            return self._failed(feed, state, base, Outcome.failure(
                Status.HTTP_ERROR, f"HTTP {status} without a usable Location", status), None)
        return self._parsed(feed, state, base, result, now)

    def _parsed(self, feed: FeedConfig, state: FeedState, base: PollResult, result: HttpResult,
                now: datetime) -> tuple[PollResult, FeedState]:
        body = result.body or b""
        digest = hashlib.sha256(body).hexdigest()
        if digest == state.body_hash:
            self._keep_validators(state, result)
            return self._unchanged(feed, state, base, "unchanged body (same hash despite HTTP 200)")
        known = set(state.recent_hashes)
        parsed = parse_feed(body, feed, url=result.final_url, content_type=result.content_type, now=now,
                            known_url_hash=lambda canonical: url_hash("u:" + canonical) in known)
        if parsed.failure is not None:
            state.parse_warning = parsed.warning
            return self._failed(feed, state, base, parsed.failure.model_copy(
                update={"http_status": result.status}), None)
        new: list[FeedEntry] = []
        duplicates = parsed.known
        for entry in parsed.entries:
            keys = _entry_keys(entry)
            if any(k in known for k in keys):
                duplicates += 1
                continue
            known.update(keys)
            new.append(entry)
        state.remember(k for e in parsed.entries for k in _entry_keys(e))
        total = len(parsed.entries) + parsed.known
        ratio = len(new) / total if total else 0.0
        # validators only for a document that parsed: a 304 must never stand in for a broken feed
        self._keep_validators(state, result)
        state.body_hash = digest
        state.hint_interval = parsed.hint_interval
        state.parse_warning = parsed.warning
        state.interval = next_interval(feed, state, ratio, changed=True)
        state.new_ratio = round(ratio, 3)
        state.last_entry_count = total
        state.total_new_entries += len(new)
        if new:
            state.last_new_entries_at = now
        reason = f"{len(new)} new of {total}"
        if parsed.warning:
            reason += f"; recovered malformed feed: {parsed.warning}"
        self._succeeded(state, Status.OK, reason, result.status)
        return base.model_copy(update={
            "outcome": Outcome(status=Status.OK, reason=reason, http_status=result.status),
            "new_entries": new, "entries_seen": total, "duplicates": duplicates, "skipped": parsed.skipped,
            "warning": parsed.warning, "next_poll_at": state.next_poll_at}), state

    @staticmethod
    def _keep_validators(state: FeedState, result: HttpResult) -> None:
        state.etag = result.headers.get("etag") or None
        state.last_modified = result.headers.get("last-modified") or None

    def _succeeded(self, state: FeedState, status: Status, reason: str, http_status: int | None) -> None:
        now = self.now()
        state.status = status.value
        state.reason = reason
        state.http_status = http_status
        state.consecutive_failures = 0
        state.retry_after_until = None
        state.last_success_at = now
        state.next_poll_at = now + timedelta(seconds=state.interval or 0)

    def _unchanged(self, feed: FeedConfig, state: FeedState, base: PollResult,
                   reason: str) -> tuple[PollResult, FeedState]:
        state.interval = next_interval(feed, state, None, changed=False)
        self._succeeded(state, Status.NOT_MODIFIED, reason, base.http_status)
        return base.model_copy(update={
            "outcome": Outcome(status=Status.NOT_MODIFIED, reason=reason, http_status=base.http_status),
            "next_poll_at": state.next_poll_at}), state

    def _failed(self, feed: FeedConfig, state: FeedState, base: PollResult, failure: Outcome,
                retry_after: float | None, gone: bool = False) -> tuple[PollResult, FeedState]:
        now = self.now()
        state.consecutive_failures += 1
        state.status = failure.status.value
        state.reason = failure.reason
        state.http_status = failure.http_status
        state.interval = state.interval or initial_interval(feed, state.hint_interval)
        wait = failure_backoff(feed, state.consecutive_failures, retry_after)
        state.next_poll_at = now + timedelta(seconds=wait)
        state.retry_after_until = now + timedelta(seconds=retry_after) if retry_after else None
        limit = self.settings.max_feed_failures
        if gone or state.consecutive_failures >= limit:
            state.disabled = True
            why = "gone (HTTP 410)" if gone else f"{state.consecutive_failures} consecutive failures"
            state.disabled_reason = f"{why}; last: {failure.status.value}: {failure.reason}"
            log.warning("feed %s disabled: %s", feed.id, state.disabled_reason)
        return base.model_copy(update={"outcome": failure, "next_poll_at": state.next_poll_at,
                                       "disabled": state.disabled}), state


async def poll_feeds_async(feeds: Sequence[FeedConfig], store: FeedStateStore, settings: Settings, *,
                           http: HttpClient | None = None, now: Callable[[], datetime] | None = None,
                           on_result: Callable[[PollResult], None] | None = None) -> list[PollResult]:
    previous = store.get_many(f.id for f in feeds)
    own = http is None
    client = http or HttpClient(settings)
    poller = Poller(settings, client, now)
    states: dict[str, FeedState] = {}

    async def one(feed: FeedConfig) -> PollResult:
        try:
            result, state = await poller.poll(feed, previous.get(feed.id))
            states[feed.id] = state
        except Exception as exc:  # a bug must not sink the cycle; the feed keeps the reason
            log.exception("polling %s failed unexpectedly", feed.id)
            result = PollResult(feed_id=feed.id, url=feed.url, outcome=Outcome.failure(
                Status.HTTP_ERROR, f"internal error: {type(exc).__name__}: {exc}"))
        if on_result is not None:
            on_result(result)
        return result

    try:
        results = list(await asyncio.gather(*(one(f) for f in feeds)))
    finally:
        if own:
            await client.aclose()
        store.put_many(states.values())
    return _dedupe_across_feeds(results)


def _dedupe_across_feeds(results: list[PollResult]) -> list[PollResult]:
    seen: set[str] = set()
    out = []
    for r in results:
        keep = [e for e in r.new_entries if e.canonical_url not in seen]
        seen.update(e.canonical_url for e in keep)
        if len(keep) != len(r.new_entries):
            r = r.model_copy(update={"new_entries": keep,
                                     "duplicates": r.duplicates + len(r.new_entries) - len(keep)})
        out.append(r)
    return out


def poll_feeds(feeds: Sequence[FeedConfig], store: FeedStateStore, settings: Settings) -> list[PollResult]:
    """Poll the given feeds once (sync wrapper); one PollResult per feed, in order. Saves state."""
    return aio.run(poll_feeds_async(feeds, store, settings))
