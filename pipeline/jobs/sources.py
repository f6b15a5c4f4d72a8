"""Ad-hoc inputs (files and URLs) for `newswatch extract` and `newswatch ingest`, turned into the
same records the feed path makes, then sent through the same stages (`steps`, `flow`).

A `.html`/`.htm` file (optionally `.gz`) is an article page, a `.txt` file is plain article text
(first line = title when it is short), and an http(s) URL is fetched with the polite, SSRF-guarded
fetcher. Every input ends in exactly one outcome.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from pipeline.config import Settings
from pipeline.fetch.charset import decode_body
from pipeline.fetch.fetcher import entry_for_url
from pipeline.jobs import flow, steps
from pipeline.jobs.events import outcome_event
from pipeline.jobs.sink import IndexSink
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, FeedEntry, FetchedPage, Processed, article_id_for
from pipeline.urls import is_http_url

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
TEXT_SUFFIXES = (".txt",)


@dataclass
class SourceResult:
    source: str
    outcome: Outcome
    article_id: str | None = None
    title: str | None = None
    claims: int = 0
    entities: int = 0

    def line(self) -> str:
        status = self.outcome.status.value
        if self.outcome.ok:
            detail = f"article={self.article_id} claims={self.claims} entities={self.entities}"
            if self.title:
                detail += f" title={self.title[:60]!r}"
        else:
            detail = self.outcome.reason
        return f"{status:<12} {self.source}  {detail}"


@dataclass
class IngestReport:
    items: list[SourceResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(i.outcome.ok for i in self.items)

    def summary(self) -> str:
        counts = Counter(i.outcome.status.value for i in self.items)
        done = counts.pop("ok", 0)
        tail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        claims = sum(i.claims for i in self.items if i.outcome.ok)
        return (f"{len(self.items)} input(s): {done} indexed ({claims} claims)"
                + (f", failed: {tail}" if tail else ""))


def text_article(path: Path, text: str) -> Article:
    url = path.resolve().as_uri()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = lines[0] if lines and len(lines[0]) <= 200 and len(lines) > 1 else None
    body = text.strip()
    return Article(article_id=article_id_for(url), url=url, canonical_url=url, outcome=Outcome.success("text file"),
                   title=title, text=body, site="local", domain="local", fetched_at=datetime.now(UTC),
                   content_hash=hashlib.sha256(body.encode()).hexdigest())


def read_file(source: str) -> FetchedPage | Article | Outcome:
    """A local input as a page to extract, a text article, or the reason it is neither."""
    path = Path(source)
    name = path.name.lower()
    if not path.is_file():
        return Outcome.failure(Status.PARSE_ERROR, f"cannot read {source}: no such file")
    try:
        if name.endswith(TEXT_SUFFIXES):
            return text_article(path, path.read_text(encoding="utf-8", errors="replace"))
        if not name.endswith(HTML_SUFFIXES):
            return Outcome.failure(Status.NOT_ARTICLE,
                                   "unsupported file type (expected .html, .html.gz or .txt, or an http(s) URL)")
        raw = path.read_bytes()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return Outcome.failure(Status.PARSE_ERROR, f"cannot read {path.name}: {getattr(exc, 'strerror', None) or exc}")
    html, charset = decode_body(raw)
    uri = path.resolve().as_uri()
    entry = FeedEntry(feed_id="local", url=uri, canonical_url=uri, article_id=article_id_for(uri))
    return FetchedPage(entry=entry, final_url=entry.url, outcome=Outcome.success(), content_type="text/html",
                       charset=charset, body=html, fetched_at=datetime.now(UTC))


def _split(sources: Sequence[str]) -> tuple[dict[str, FeedEntry], dict[str, FetchedPage | Article],
                                             dict[str, Outcome]]:
    urls: dict[str, FeedEntry] = {}
    ready: dict[str, FetchedPage | Article] = {}
    failed: dict[str, Outcome] = {}
    for source in dict.fromkeys(sources):
        if is_http_url(source):
            urls[source] = entry_for_url(source)
            continue
        item = read_file(source)
        if isinstance(item, Outcome):
            failed[source] = item
        else:
            ready[source] = item
    return urls, ready, failed


def extract_sources(sources: Sequence[str], settings: Settings) -> Iterator[tuple[str, Article]]:
    """(source, Article) per input, in order: extraction only, the stage the pool runs."""
    from pipeline.fetch.fetcher import fetch_pages

    urls, ready, failed = _split(sources)
    pages = dict(zip(urls, fetch_pages(list(urls.values()), settings), strict=True)) if urls else {}
    for source in sources:
        item = pages.get(source) or ready.get(source)
        if item is None:
            yield source, Article(article_id="", url="", canonical_url="", outcome=failed[source])
        elif isinstance(item, Article):
            yield source, item
        else:
            yield source, steps.extract(item)


def ingest_sources(sources: Sequence[str], settings: Settings, es: Elasticsearch,
                   run_id: str | None = None) -> IngestReport:
    """Extract, tag and index the inputs through `flow`; one SourceResult per distinct input, in
    order. Failures are recorded as events too. Raises ClusterUnavailable."""
    from pipeline.index.writer import IndexWriter

    urls, ready, failed = _split(sources)
    sink = IndexSink(IndexWriter(es, settings), run_id)
    if failed:
        sink.submit(Processed(events=[outcome_event("extract", outcome, run_id=run_id, subject=source) for source, outcome in failed.items()]))
    flow.run(settings, sink.submit, entries=list(urls.values()), ready=list(ready.values()), run_id=run_id)
    report = sink.close()
    if report.unavailable:
        from pipeline.index.errors import ClusterUnavailable

        raise ClusterUnavailable(report.unavailable)
    events = {e.article_id: e for e in report.events if e.article_id}
    results: list[SourceResult] = []
    for source in dict.fromkeys(sources):
        if source in failed:
            results.append(SourceResult(source, failed[source]))
            continue
        item = urls.get(source) or ready[source]
        aid = item.article_id if isinstance(item, FeedEntry | Article) else item.entry.article_id
        written = report.written.get(aid)
        if written is not None:
            results.append(SourceResult(source, Outcome.success(), aid, written.title, written.claims,
                                        written.entities))
        elif aid in report.outcomes:
            results.append(SourceResult(source, report.outcomes[aid], aid))
        else:
            event = events[aid]
            results.append(SourceResult(source, Outcome(status=Status(event.status), reason=event.reason,
                                                        http_status=event.http_status), aid))
    return IngestReport(results)
