"""HTML to Article with trafilatura, falling back to the feed entry's fields, and one outcome per
page: ok, too_short, not_article, paywalled, blocked or parse_error (fetch failures pass through)."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.extract.language import declared_language
from pipeline.extract.paywall import paywall_evidence
from pipeline.fetch.classify import challenge_marker
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, FeedEntry, FetchedPage, article_id_for
from pipeline.tagging.language import detect as detect_language
from pipeline.urls import canonicalize_url, host_of, is_http_url

log = logging.getLogger(__name__)

MIN_CHARS = 250  # shorter main text is a brief, a teaser or a failed extraction
PAYWALL_TEASER_CHARS = 1500  # this much visible text is an article, whatever paywall markup the page carries
PRECISION_MIN_CHARS = 500
MAX_LINKED_SHARE = 0.5
LINK_LINE_MAX = 200  # a longer line is a paragraph, not the text of one link
FUTURE_TOLERANCE = timedelta(days=1)
_TRAFILATURA = {"include_comments": False, "include_tables": True}
_WS = re.compile(r"[ \t\r\f\v]+")


def _linked_share(tree: Any, text: str) -> float:
    """Share of the extracted text made of lines that are link texts on the page: high on section
    fronts and link lists, low on articles even when the page around them is full of links.

    Lines longer than LINK_LINE_MAX are not taken for link texts, and when the shorter lines are too
    few to exceed MAX_LINKED_SHARE (an article's paragraphs) the page's links are not looked at."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    total = sum(len(line) for line in lines)
    if total == 0 or tree is None:
        return 0.0
    wanted = {line for line in lines if len(line) <= LINK_LINE_MAX}
    wanted |= {line.lstrip("-•* ") for line in wanted}
    if sum(len(line) for line in lines if line in wanted) <= MAX_LINKED_SHARE * total:
        return 0.0
    anchors = {t for a in tree.iter("a") if (t := " ".join(a.text_content().split())) in wanted}
    anchors.discard("")
    linked = sum(len(line) for line in lines if line in anchors or line.lstrip("-•* ") in anchors)
    return linked / total


def _parse_date(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when if when <= now + FUTURE_TOLERANCE else None


def _split(value: Any, sep: str = ",") -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items if item for part in str(item).split(sep) if part.strip()]


def clean_text(text: str) -> str:
    lines = [_WS.sub(" ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _date_params(now: datetime) -> dict[str, Any]:
    return {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            "max_date": (now + FUTURE_TOLERANCE).strftime("%Y-%m-%d")}


def _metadata(tree: Any, url: str | None, now: datetime) -> dict[str, Any]:
    """The page's metadata fields; none when trafilatura's metadata code fails (the text still counts)."""
    from pipeline.extract.metadata import page_metadata

    try:
        return page_metadata(tree, url, _date_params(now))
    except Exception as exc:
        log.warning("metadata extraction failed for %s: %s: %s", url or "page", type(exc).__name__, exc)
        return {}


def _main_text(tree: Any, url: str | None, title: str | None) -> str:
    """The main text of a parsed page.

    A precision-favouring pass first (boilerplate stays out), in trafilatura's fast mode: without
    its comparison with readability and justext, which costs a third of the extraction and, in
    precision mode, only takes over when it finds much more text than precision kept (on the
    181-page benchmark: 6 pages, 5 of them under PRECISION_MIN_CHARS, the sixth for the worse).
    A text under PRECISION_MIN_CHARS is suspect (precision probably cut the article itself): the full
    precision cascade runs, then if still short a default pass, and the longest text wins.
    """
    import trafilatura

    text = ""
    for options in ({"favor_precision": True, "fast": True}, {"favor_precision": True}, {}):
        doc = trafilatura.bare_extraction(tree, url=url, **options, **_TRAFILATURA)
        candidate = clean_text(doc.text or "") if doc is not None else ""
        if len(candidate) > len(text):
            text = candidate
        if len(text) >= PRECISION_MIN_CHARS:
            break
    return tidy_text(text, title)


_BOILERPLATE_TAIL = re.compile(
    r"^(\d+\s+)?comments?$|^(you may also like|related( articles| stories| posts)?|read more|more from)\b.{0,40}$"
    r"|^(like this (story|article)|share (this|it)|follow (us|.{0,60} on (twitter|facebook|instagram)))\b"
    r"|\bsubscrib\w* to (our|the)\b.{0,60}newsletter|\bnewsletters?\b.{0,40}\binbox\b|\binbox\b.{0,60}newsletter"
    r"|^(copyright|©|\(c\))|all rights reserved|^filed under:|^tags?:",
    re.IGNORECASE,
)
TAIL_LINE_MAX = 160
HEADLINE_LINE_MAX = 160


def _tokens(value: str) -> set[str]:
    return set(re.findall(r"\w+", value.lower()))


def _is_headline_variant(line: str, title: str) -> bool:
    """A short line made mostly of the headline's words (a second headline, a kicker)."""
    words, title_words = _tokens(line), _tokens(title)
    if not words or not title_words or len(line) > HEADLINE_LINE_MAX:
        return False
    return len(words & title_words) >= 0.7 * len(words)


def tidy_text(text: str, title: str | None) -> str:
    """Metadata-aware cleanup: the headline (or a second headline made of its words) at the top, and
    share/follow/newsletter/comments/copyright lines at the bottom are not body text.
    (The standfirst stays: sites often reuse the lede as the description.)"""
    lines = text.split("\n")
    for _ in range(2):
        if len(lines) < 2:
            break
        first = lines[0]
        if title and (_norm(first) == _norm(title) or _is_headline_variant(first, title)):
            lines = lines[1:]
        else:
            break
    while len(lines) > 1 and len(lines[-1]) <= TAIL_LINE_MAX and (
            not lines[-1].strip() or _BOILERPLATE_TAIL.search(lines[-1].strip())):
        lines = lines[:-1]
    return "\n".join(lines).strip()


def _norm(value: str) -> str:
    return re.sub(r"\W+", " ", value).strip().lower()


def extract_html(html: str, url: str | None = None, entry: FeedEntry | None = None, *,
                 fetched_at: datetime | None = None, now: datetime | None = None) -> Article:
    """Extract one page. Never raises for bad input: the Article's outcome says what went wrong.

    The page is parsed once; metadata, main text and the checks all read that one tree."""
    from trafilatura import load_html

    now = now or datetime.now(UTC)
    url = url or (entry.url if entry else None)
    tree = None
    text = ""
    meta: dict[str, Any] = {}
    failure: Outcome | None = None
    if not html or not html.strip():
        failure = Outcome.failure(Status.PARSE_ERROR, "empty document")
    elif "<" not in html[:5000]:
        failure = Outcome.failure(Status.PARSE_ERROR, "not HTML (no markup)")
    else:
        try:
            tree = load_html(html)
            if tree is not None:
                meta = _metadata(tree, url, now)
                text = _main_text(tree, url, meta.get("title"))
        except Exception as exc:  # trafilatura/lxml choke on some inputs; that is this page's outcome
            failure = Outcome.failure(Status.PARSE_ERROR, f"extraction failed: {type(exc).__name__}: {exc}")
    if failure is None:
        failure = classify(html, text, meta, tree)
    return _article(html, text, meta, url, entry, failure, fetched_at, now)


def classify(html: str, text: str, meta: dict[str, Any], tree: Any = None) -> Outcome:
    """The outcome of a page whose main text is `text`; `tree` is the parsed page (for the link check).
    The page scans only run when little text came out: they are not free on big pages."""
    if len(text) < 2 * MIN_CHARS:
        marker = challenge_marker(html)
        if marker:
            return Outcome.failure(Status.BLOCKED, f"bot challenge page ({marker!r})")
    if len(text) < PAYWALL_TEASER_CHARS:
        paywall = paywall_evidence(html, text, tree)
        if paywall:
            return Outcome.failure(Status.PAYWALLED, f"paywall suspected ({paywall}); {len(text)} chars visible")
    if not text:
        return Outcome.failure(Status.NOT_ARTICLE, "no main text found")
    linked = _linked_share(tree, text)
    if linked > MAX_LINKED_SHARE:
        pagetype = meta.get("pagetype") or "page"
        return Outcome.failure(Status.NOT_ARTICLE, f"{pagetype}: {linked:.0%} of the extracted text is links")
    if len(text) < MIN_CHARS:
        return Outcome.failure(Status.TOO_SHORT, f"{len(text)} chars of main text (< {MIN_CHARS})")
    return Outcome.success()


def _article(html: str, text: str, meta: dict[str, Any], url: str | None, entry: FeedEntry | None,
             outcome: Outcome, fetched_at: datetime | None, now: datetime) -> Article:
    page_url = meta.get("url") if is_http_url(meta.get("url") or "") else None
    url = url or page_url or ""
    if entry is not None:
        canonical = entry.canonical_url
    elif url and is_http_url(url):
        canonical = canonicalize_url(url)
    else:
        canonical = url or "sha256:" + hashlib.sha256(html.encode("utf-8", "replace")).hexdigest()
    published = _parse_date(meta.get("date"), now)
    if entry is not None and entry.published_at is not None:
        # the feed's timestamp is exact; the page's date is often a day only
        if published is None or published.date() == entry.published_at.date():
            published = entry.published_at
    tags = list(dict.fromkeys(t.lower() for t in _split(meta.get("tags")) + _split(meta.get("categories"))
                              + (entry.tags if entry else [])))
    language = (detect_language(text).code if text else None) or declared_language(html) \
        or meta.get("language") or (entry.language if entry else None)
    domain = host_of(url) if url and is_http_url(url) else None
    authors = _split(meta.get("author"), ";") or (list(entry.authors) if entry else [])
    return Article(
        article_id=article_id_for(canonical), url=url, canonical_url=canonical, outcome=outcome,
        feed_ids=[entry.feed_id] if entry else [], feed_names=[entry.feed_name] if entry and entry.feed_name else [],
        site=meta.get("sitename") or domain, domain=domain,
        title=meta.get("title") or (entry.title if entry else None),
        text=text if outcome.ok else text[:PAYWALL_TEASER_CHARS],
        summary=entry.summary if entry else None,
        description=meta.get("description") or (entry.summary if entry else None),
        authors=authors, published_at=published, fetched_at=fetched_at, language=language, tags=tags,
        image=meta.get("image"),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None,
    )


def extract_article(page: FetchedPage) -> Article:
    """The Article for a fetched page; a failed fetch keeps its outcome and the entry's fields."""
    if page.outcome.status != Status.OK or page.body is None:
        outcome = page.outcome
        if page.outcome.status == Status.OK:
            outcome = Outcome.failure(Status.PARSE_ERROR, "fetched page has no body", page.http_status)
        return _article("", "", {}, page.final_url or page.entry.url, page.entry, outcome, page.fetched_at,
                        datetime.now(UTC))
    article = extract_html(page.body, page.final_url or page.entry.url, page.entry, fetched_at=page.fetched_at)
    if page.http_status is not None and article.outcome.http_status is None:
        article = article.model_copy(update={"outcome": article.outcome.model_copy(
            update={"http_status": page.http_status})})
    return article
