"""Polite article fetching: every entry ends in one FetchedPage with an outcome and a reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipeline.config import Settings
from pipeline.fetch import aio
from pipeline.fetch.charset import decode_body
from pipeline.fetch.classify import classify_http_status
from pipeline.fetch.http import HttpClient
from pipeline.outcomes import Outcome, Status
from pipeline.records import FeedEntry, FetchedPage, article_id_for
from pipeline.urls import canonicalize_url

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


def accept_html(content_type: str | None) -> bool:
    if not content_type:
        return True  # sniffed later by the extractor
    kind = content_type.split(";")[0].strip().lower()
    return kind in HTML_TYPES or kind == "text/plain"


def entry_for_url(url: str, feed_id: str = "adhoc") -> FeedEntry:
    canonical = canonicalize_url(url)
    return FeedEntry(feed_id=feed_id, url=url, canonical_url=canonical, article_id=article_id_for(canonical))


async def fetch_page(http: HttpClient, entry: FeedEntry) -> FetchedPage:
    now = datetime.now(UTC)
    try:
        host = urlsplit(entry.url).netloc.lower()
    except ValueError:  # a malformed URL: the client refuses it, with the reason
        host = ""
    paused = http.politeness.paused_for(host)
    if paused > 0:
        return FetchedPage(entry=entry, final_url=entry.url, fetched_at=now, outcome=Outcome.failure(
            Status.BLOCKED, f"host {host} asked us to wait {paused:.0f}s more (Retry-After)"))
    # skip_paused: requests already waiting for this host's slot when it answered 429/503 are not sent
    result = await http.get(entry.url, accept=accept_html, check_robots=True, skip_paused=True,
                            headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"})
    page = FetchedPage(entry=entry, final_url=result.final_url, http_status=result.status,
                       content_type=result.content_type, fetched_at=now, elapsed_ms=result.elapsed_ms,
                       outcome=result.failure or Outcome.success())
    if result.failure is not None:
        return page
    assert result.status is not None
    text, charset = decode_body(result.body or b"", result.content_type)
    if result.status in (429, 503) and result.retry_after:
        http.politeness.pause(host, result.retry_after)
    failure = classify_http_status(result.status, text, result.retry_after)
    if failure is not None:
        return page.model_copy(update={"outcome": failure})
    if result.status == 304:
        return page.model_copy(update={"outcome": Outcome(status=Status.NOT_MODIFIED, http_status=304)})
    return page.model_copy(update={"body": text, "charset": charset,
                                   "outcome": Outcome(status=Status.OK, http_status=result.status)})


async def fetch_pages_async(entries: Sequence[FeedEntry], settings: Settings,
                            http: HttpClient | None = None) -> list[FetchedPage]:
    own = http is None
    client = http or HttpClient(settings)
    try:
        pages = await asyncio.gather(*(fetch_one(client, e) for e in entries))
    finally:
        if own:
            await client.aclose()
    return list(pages)


async def fetch_one(http: HttpClient, entry: FeedEntry) -> FetchedPage:
    try:
        page = await fetch_page(http, entry)
    except Exception as exc:  # a bug must not sink the batch; the page keeps the reason
        log.exception("fetch of %s failed unexpectedly", entry.url)
        page = FetchedPage(entry=entry, final_url=entry.url, fetched_at=datetime.now(UTC),
                           outcome=Outcome.failure(Status.HTTP_ERROR, f"internal error: {type(exc).__name__}: {exc}"))
    log.debug("fetch %s -> %s %s", entry.url, page.outcome.status, page.outcome.reason)
    return page


def fetch_pages(entries: Sequence[FeedEntry], settings: Settings) -> list[FetchedPage]:
    """Fetch article pages politely (sync wrapper); one FetchedPage per entry, in order."""
    return aio.run(fetch_pages_async(entries, settings))
