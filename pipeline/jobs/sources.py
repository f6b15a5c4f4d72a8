"""Ad-hoc inputs (files and URLs) for `newswatch extract` and `newswatch ingest`, turned into the
same records the feed path makes, then sent through the same stages (`steps`, `flow`).

A `.html`/`.htm` file (optionally `.gz`) is an article page, a `.txt` file is plain article text
(first line = title when it is short), and an http(s) URL is fetched with the polite, SSRF-guarded
fetcher. Every input ends in exactly one outcome; an input that is none of these (a mistyped URL,
a missing file) is the caller's mistake, not a pipeline failure: `InputError`, before any work.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from pipeline.config import Settings
from pipeline.fetch.charset import decode_body
from pipeline.fetch.fetcher import entry_for_url
from pipeline.jobs import flow, steps
from pipeline.jobs.sink import IndexSink, SinkReport
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, Event, FeedEntry, FetchedPage, Processed, article_id_for
from pipeline.stories.assign import stories_for
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


class InputError(ValueError):
    """Raised by `extract_sources` and `ingest_sources` before any work when some inputs cannot be
    used at all (a mistyped URL, a missing file, an unsupported file type): the person who typed
    them is told, and nothing about them reaches the pipeline's events. `problems`: input -> why."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        lines = [f"  {source}: {why}" for source, why in self.problems.items()]
        super().__init__(f"{len(self.problems)} input(s) cannot be used, nothing was done:\n" + "\n".join(lines))


def input_problem(source: str) -> str | None:
    """Why `source` is neither an http(s) URL nor a readable local page or text file, or None.
    Cheap: nothing is read."""
    if is_http_url(source):
        return None
    if "://" in source:
        return "not an http(s) URL (only http and https are fetched)"
    path = Path(source)
    if not path.exists():
        host = source.split("/", 1)[0]
        looks_like_host = "." in host and ("/" in source or host.startswith("www.")) and " " not in source
        if looks_like_host and is_http_url(f"https://{source}"):
            return f"no such file, and not an http(s) URL (did you mean https://{source} ?)"
        return "no such file, and not an http(s) URL"
    if path.is_dir():
        return "is a directory (give the files in it)"
    if not path.name.lower().endswith(HTML_SUFFIXES + TEXT_SUFFIXES):
        return f"unsupported file type (expected {', '.join(HTML_SUFFIXES + TEXT_SUFFIXES)}, or an http(s) URL)"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None


def read_file(source: str) -> FetchedPage | Article | str:
    """A local input as a page to extract, a text article, or why it cannot be used."""
    if problem := input_problem(source):
        return problem
    path = Path(source)
    try:
        if path.name.lower().endswith(TEXT_SUFFIXES):
            return text_article(path, path.read_text(encoding="utf-8", errors="replace"))
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return f"cannot read it: {getattr(exc, 'strerror', None) or exc}"
    html, charset = decode_body(raw)
    uri = path.resolve().as_uri()
    entry = FeedEntry(feed_id="local", url=uri, canonical_url=uri, article_id=article_id_for(uri))
    return FetchedPage(entry=entry, final_url=entry.url, outcome=Outcome.success(), content_type="text/html",
                       charset=charset, body=html, fetched_at=datetime.now(UTC))


def _split(sources: Sequence[str]) -> tuple[dict[str, FeedEntry], dict[str, FetchedPage | Article]]:
    """URLs to fetch and local inputs read; raises InputError, before anything else happens, when
    any input cannot be used."""
    urls: dict[str, FeedEntry] = {}
    ready: dict[str, FetchedPage | Article] = {}
    problems: dict[str, str] = {}
    for source in dict.fromkeys(sources):
        if is_http_url(source):
            urls[source] = entry_for_url(source)
            continue
        item = read_file(source)
        if isinstance(item, str):
            problems[source] = item
        else:
            ready[source] = item
    if problems:
        raise InputError(problems)
    return urls, ready


def extract_sources(sources: Sequence[str], settings: Settings) -> Iterator[tuple[str, Article]]:
    """(source, Article) per input, in order: extraction only, the stage the pool runs. Raises
    InputError (at the first item) when any input cannot be used."""
    from pipeline.fetch.fetcher import fetch_pages

    urls, ready = _split(sources)
    pages = dict(zip(urls, fetch_pages(list(urls.values()), settings), strict=True)) if urls else {}
    for source in sources:
        item = pages.get(source) or ready[source]
        yield source, item if isinstance(item, Article) else steps.extract(item)


def _article_id(item: FeedEntry | FetchedPage | Article) -> str:
    return item.entry.article_id if isinstance(item, FetchedPage) else item.article_id


def _result(source: str, aid: str, report: SinkReport, events: dict[str, Event]) -> SourceResult | None:
    written = report.written.get(aid)
    if written is not None:
        return SourceResult(source, Outcome.success(), aid, written.title, written.claims, written.entities)
    if aid in report.outcomes:
        return SourceResult(source, report.outcomes[aid], aid)
    event = events.get(aid)
    if event is None:
        return None
    return SourceResult(source, Outcome(status=Status(event.status), reason=event.reason,
                                        http_status=event.http_status), aid)


def ingest_sources(sources: Sequence[str], settings: Settings, es: Elasticsearch, run_id: str | None = None,
                   on_result: Callable[[SourceResult], None] | None = None) -> IngestReport:
    """Extract, tag and index the inputs through `flow`; one SourceResult per distinct input, in
    order. Pipeline failures (HTTP errors, too-short pages, ...) are recorded as events too.
    `on_result` is called with each input's result as soon as it is known (from another thread).
    Raises InputError before any work when an input cannot be used, ClusterUnavailable when the
    cluster is away."""
    from pipeline.index.writer import IndexWriter

    urls, ready = _split(sources)
    by_article: dict[str, list[str]] = {}
    for source, item in [*urls.items(), *ready.items()]:
        by_article.setdefault(_article_id(item), []).append(source)
    told: set[str] = set()

    def written(batch: Processed) -> None:
        if on_result is None:
            return
        events = {e.article_id: e for e in batch.events if e.article_id}
        for aid in [*(t.article.article_id for t in batch.articles), *events]:
            for source in by_article.get(aid, []):
                result = None if source in told else _result(source, aid, sink.report, events)
                if result is not None:
                    told.add(source)
                    on_result(result)

    sink = IndexSink(IndexWriter(es, settings), run_id, stories_for(es, settings), on_written=written)
    flow.run(settings, sink.submit, entries=list(urls.values()), ready=list(ready.values()), run_id=run_id)
    report = sink.close()
    if report.unavailable:
        from pipeline.index.errors import ClusterUnavailable

        raise ClusterUnavailable(report.unavailable, url=settings.es_url)
    events = {e.article_id: e for e in report.events if e.article_id}
    results: list[SourceResult] = []
    for source in dict.fromkeys(sources):
        aid = _article_id(urls.get(source) or ready[source])
        result = _result(source, aid, report, events)
        if result is None:  # every item ends in an outcome; this would be a bug in the flow
            raise RuntimeError(f"no outcome for {source} (article {aid})")
        results.append(result)
    return IngestReport(results)
