"""Ad-hoc ingestion without Airflow: files and URLs -> extract -> tag -> index, one outcome per input.

A `.html`/`.htm`/`.html.gz` file is an article page, a `.txt` file is plain article text (first line =
title when it is short), and an http(s) URL is fetched with the pipeline's polite, SSRF-guarded fetcher.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, Event, TaggedArticle, article_id_for

log = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
TEXT_SUFFIXES = (".txt",)


@dataclass
class IngestItem:
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
    items: list[IngestItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(i.outcome.ok for i in self.items)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.outcome.status.value] = counts.get(item.outcome.status.value, 0) + 1
        done = counts.pop("ok", 0)
        tail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        claims = sum(i.claims for i in self.items if i.outcome.ok)
        return (f"{len(self.items)} input(s): {done} indexed ({claims} claims)"
                + (f", failed: {tail}" if tail else ""))


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _read_html(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        return str(best) if best is not None else raw.decode("utf-8", errors="replace")


def article_from_text(path: Path, text: str) -> Article:
    url = path.resolve().as_uri()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = lines[0] if lines and len(lines[0]) <= 200 and len(lines) > 1 else None
    body = text.strip()
    return Article(article_id=article_id_for(url), url=url, canonical_url=url, outcome=Outcome.success("text file"),
                   title=title, text=body, site="local", domain="local", fetched_at=datetime.now(UTC),
                   content_hash=hashlib.sha256(body.encode()).hexdigest())


def _extract_file(path: Path) -> Article:
    from pipeline.extract.extractor import extract_html

    return extract_html(_read_html(path), url=path.resolve().as_uri())


def _failed(source: str, status: Status, reason: str) -> IngestItem:
    return IngestItem(source, Outcome.failure(status, reason))


def load_sources(sources: list[str], settings: Settings) -> tuple[list[tuple[str, Article]], list[IngestItem]]:
    """Articles ready to tag (source, article) and the inputs that failed before tagging."""
    ready: list[tuple[str, Article]] = []
    failed: list[IngestItem] = []
    urls: list[str] = []
    for source in sources:
        if _is_url(source):
            urls.append(source)
            continue
        path = Path(source)
        name = path.name.lower()
        if not path.is_file():
            failed.append(_failed(source, Status.PARSE_ERROR, "no such file"))
        elif name.endswith(TEXT_SUFFIXES):
            text = path.read_text(encoding="utf-8", errors="replace")
            ready.append((source, article_from_text(path, text)))
        elif name.endswith(HTML_SUFFIXES):
            try:
                ready.append((source, _extract_file(path)))
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                failed.append(_failed(source, Status.PARSE_ERROR, f"cannot read {path.name}: {exc}"))
        else:
            failed.append(_failed(source, Status.NOT_ARTICLE,
                                  "unsupported file type (expected .html, .html.gz or .txt, or an http(s) URL)"))
    if urls:
        from pipeline.extract.extractor import extract_article
        from pipeline.fetch.fetcher import entry_for_url, fetch_pages

        pages = fetch_pages([entry_for_url(u) for u in urls], settings)
        for source, page in zip(urls, pages, strict=True):
            if page.outcome.ok and page.body:
                ready.append((source, extract_article(page)))
            else:
                failed.append(IngestItem(source, page.outcome, article_id=page.entry.article_id))
    return ready, failed


def ingest(sources: list[str], settings: Settings, es: Any, *, tag: Callable[[list[str]], list[Any]] | None = None,
           run_id: str | None = None) -> IngestReport:
    """Extract, tag and index `sources`; one IngestItem per input, in input order. Raises ClusterUnavailable."""
    from pipeline.index.writer import IndexWriter

    ready, failed = load_sources(sources, settings)
    writer = IndexWriter(es, settings)
    by_source: dict[str, IngestItem] = {item.source: item for item in failed}
    good = [(s, a) for s, a in ready if a.outcome.ok and a.text.strip()]
    for s, a in ready:
        if not (a.outcome.ok and a.text.strip()):
            outcome = a.outcome if not a.outcome.ok else Outcome.failure(Status.TOO_SHORT, "no text extracted")
            by_source[s] = IngestItem(s, outcome, article_id=a.article_id, title=a.title)
    if good:
        if tag is None:
            from pipeline.tagging.tagger import get_tagger

            tag = get_tagger().tag_many
        results = tag([a.text for _, a in good])
        batch = [TaggedArticle(article=a, tags=r) for (_, a), r in zip(good, results, strict=True)]
        report = writer.write(batch)
        outcomes = {i.article_id: i.outcome for i in report.items}
        for (source, article), tagged in zip(good, batch, strict=True):
            by_source[source] = IngestItem(source, outcomes.get(article.article_id, Outcome.success()),
                                           article_id=article.article_id, title=article.title,
                                           claims=len(tagged.tags.claims), entities=len(tagged.tags.entities))
    events = [_event(item, run_id) for item in by_source.values() if not item.outcome.ok]
    if events:
        writer.record_events(events)
    return IngestReport([by_source[s] for s in dict.fromkeys(sources) if s in by_source])


def _event(item: IngestItem, run_id: str | None) -> Event:
    stage = "index" if item.outcome.status is Status.INDEX_ERROR else "extract"
    subject = item.article_id or item.source
    digest = hashlib.sha256(f"{stage}|{subject}|{item.outcome.status.value}|{run_id}".encode()).hexdigest()[:32]
    return Event(event_id=digest, at=datetime.now(UTC), stage=stage, status=item.outcome.status.value,
                 reason=item.outcome.reason, retryable=item.outcome.retryable, article_id=item.article_id,
                 url=item.source if _is_url(item.source) else None, run_id=run_id,
                 http_status=item.outcome.http_status, details={"source": item.source})
