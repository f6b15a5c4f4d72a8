"""Feed documents to FeedEntry records, with feedparser (RSS 0.9x/1.0/2.0, Atom).

Malformed ("bozo") feeds are recovered when feedparser manages to, and the problem is recorded
either way. Documents declaring XML entities are refused before parsing (entity-expansion bombs).
"""

from __future__ import annotations

import calendar
import functools
import html
import re
from collections.abc import Callable
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
# items repeat from one poll of a feed to the next: their links are checked once per process
_is_http = functools.lru_cache(maxsize=65536)(is_http_url)


@dataclass
class ParsedFeed:
    entries: list[FeedEntry] = field(default_factory=list)
    known: int = 0  # items dropped before parsing because their URL was seen in this feed before
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


_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"


_RSS_LINKS = ("link", f"{_RSS1}link")


def _first_links(root: Any) -> dict[tuple[Any, str], Any]:
    """(parent, tag) -> the parent's first `link` child of that tag, for RSS 2.0 and 1.0, from one
    pass over the document (cheaper than a search inside every item)."""
    firsts: dict[tuple[Any, str], Any] = {}
    for el in root.iter(*_RSS_LINKS):
        firsts.setdefault((el.getparent(), el.tag), el)
    return firsts


def _item_link(item: Any, first_links: dict[tuple[Any, str], Any]) -> str | None:
    tag = item.tag if isinstance(item.tag, str) else ""
    if tag.startswith(_ATOM):
        for link in item.iterfind(f"{_ATOM}link"):
            if link.get("rel", "alternate") == "alternate" and link.get("href"):
                return link.get("href").strip()
        return None
    for name in _RSS_LINKS:
        el = first_links.get((item, name))
        if el is not None and el.text and el.text.strip():
            return el.text.strip()
    return None


def drop_known_items(body: bytes, known_url_hash: Callable[[str], bool]) -> tuple[bytes, int]:
    """Remove items whose absolute link is already known, so feedparser only parses what may be new.

    Only well-formed documents are touched (anything else goes to feedparser whole, which recovers
    and records malformed feeds); items without an absolute http(s) link are always kept.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return body, 0
    items = [el for el in root.iter("item", f"{_RSS1}item", f"{_ATOM}entry")]
    first_links = _first_links(root)  # keyed by the item elements, kept alive by `items`
    dropped = 0
    for item in items:
        link = _item_link(item, first_links)
        if link and _is_http(link) and known_url_hash(canonicalize_url(link)):
            parent = item.getparent()
            if parent is not None:
                parent.remove(item)
                dropped += 1
    if not dropped:
        return body, 0
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), dropped


def parse_feed(body: bytes, feed: FeedConfig, *, url: str | None = None, content_type: str | None = None,
               now: datetime | None = None, known_url_hash: Callable[[str], bool] | None = None) -> ParsedFeed:
    """Entries of a feed document. With `known_url_hash`, items whose canonical URL it recognises are
    counted in `known` and not parsed (they are duplicates for this feed)."""
    now = now or datetime.now(UTC)
    if _ENTITY_DECL.search(body[:200_000]):
        return ParsedFeed(failure=Outcome.failure(
            Status.PARSE_ERROR, "XML entity declarations refused (possible entity-expansion bomb)"))
    known = 0
    if known_url_hash is not None:
        body, known = drop_known_items(body, known_url_hash)
    headers = {"content-location": url or feed.url, "content-type": content_type or "application/xml"}
    try:
        # markup inside titles and summaries is reduced to text below, so rewriting relative links
        # inside it (feedparser's default, an HTML parse per field) would be wasted work
        d = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser is meant not to raise; if it does, the feed is unparseable
        return ParsedFeed(failure=Outcome.failure(Status.PARSE_ERROR, f"feedparser crashed: {exc}"))
    warning = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        warning = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    meta = d.get("feed", {})
    if not d.get("entries") and not meta.get("title") and not known:
        reason = f"not a parseable feed ({warning})" if warning else "not an RSS/Atom/RDF document"
        return ParsedFeed(failure=Outcome.failure(Status.PARSE_ERROR, reason), warning=warning)
    parsed = ParsedFeed(title=_text(meta.get("title")), hint_interval=hint_interval(meta), warning=warning,
                        known=known)
    language = feed.language or (str(meta.get("language") or "").split("-")[0].lower() or None)
    for e in d.get("entries", []):
        link = e.get("link")
        if not link or not _is_http(link):
            guid = e.get("id") or ""
            link = guid if _is_http(guid) else None
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
