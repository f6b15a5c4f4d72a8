"""Feed documents to FeedEntry records, with feedparser (RSS 0.9x/1.0/2.0, Atom).

Malformed ("bozo") feeds are recovered when feedparser manages to, and the problem is recorded
either way. Documents declaring XML entities are refused before parsing (entity-expansion bombs).
"""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from pipeline.feeds.catalog import FeedConfig
from pipeline.outcomes import Outcome, Status
from pipeline.records import FeedEntry, article_id_for
from pipeline.urls import canonicalize_url, is_http_url

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SY_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
               "yearly": 365 * 86400}
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass
class ParsedFeed:
    entries: list[FeedEntry] = field(default_factory=list)
    title: str | None = None
    hint_interval: int | None = None
    warning: str | None = None
    skipped: int = 0  # entries without a usable link
    failure: Outcome | None = None


def _text(value: Any) -> str | None:
    if not value:
        return None
    cleaned = html.unescape(_TAGS.sub(" ", str(value)))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return cleaned or None


def _when(entry: Any, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = entry.get(key)
        if st:
            try:
                when = datetime.fromtimestamp(calendar.timegm(st), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
            return when if when <= now + FUTURE_TOLERANCE else None
    return None


def _authors(entry: Any) -> list[str]:
    names = [a.get("name") for a in entry.get("authors") or [] if isinstance(a, dict)]
    names = [n.strip() for n in names if n and n.strip()]
    if not names and entry.get("author"):
        names = [entry["author"].strip()]
    return list(dict.fromkeys(names))


def hint_interval(meta: Any) -> int | None:
    """Seconds between updates the publisher suggests (RSS ttl, or sy:updatePeriod/Frequency)."""
    ttl = str(meta.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        return int(ttl) * 60
    period = str(meta.get("sy_updateperiod") or "").strip().lower()
    if period in _SY_PERIODS:
        freq = str(meta.get("sy_updatefrequency") or "1").strip()
        n = int(freq) if freq.isdigit() and int(freq) > 0 else 1
        return max(60, _SY_PERIODS[period] // n)
    return None


def parse_feed(body: bytes, feed: FeedConfig, *, url: str | None = None, content_type: str | None = None,
               now: datetime | None = None) -> ParsedFeed:
    now = now or datetime.now(UTC)
    if _ENTITY_DECL.search(body[:200_000]):
        return ParsedFeed(failure=Outcome.failure(
            Status.PARSE_ERROR, "XML entity declarations refused (possible entity-expansion bomb)"))
    headers = {"content-location": url or feed.url, "content-type": content_type or "application/xml"}
    try:
        d = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser is meant not to raise; if it does, the feed is unparseable
        return ParsedFeed(failure=Outcome.failure(Status.PARSE_ERROR, f"feedparser crashed: {exc}"))
    warning = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        warning = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    meta = d.get("feed", {})
    if not d.get("entries") and not meta.get("title"):
        reason = f"not a parseable feed ({warning})" if warning else "not an RSS/Atom/RDF document"
        return ParsedFeed(failure=Outcome.failure(Status.PARSE_ERROR, reason), warning=warning)
    parsed = ParsedFeed(title=_text(meta.get("title")), hint_interval=hint_interval(meta), warning=warning)
    language = feed.language or (str(meta.get("language") or "").split("-")[0].lower() or None)
    for e in d.get("entries", []):
        link = e.get("link")
        if not link or not is_http_url(link):
            guid = e.get("id") or ""
            link = guid if is_http_url(guid) else None
        if not link:
            parsed.skipped += 1
            continue
        canonical = canonicalize_url(link)
        tags = list(feed.tags)
        for t in e.get("tags") or []:
            term = (t.get("term") or "").strip().lower() if isinstance(t, dict) else ""
            if term and term not in tags:
                tags.append(term)
        parsed.entries.append(FeedEntry(
            feed_id=feed.id, feed_name=feed.name, url=link, canonical_url=canonical,
            article_id=article_id_for(canonical), guid=(e.get("id") or None), title=_text(e.get("title")),
            summary=_text(e.get("summary")), authors=_authors(e), published_at=_when(e, now),
            language=language, tags=tags, seen_at=now,
        ))
    return parsed
