"""Extraction and tagging of a chunk, in this process or in the worker processes.

The functions named by `PROCESS_PAGES` and `TAG_LINES` are what a worker runs (on JSON-shaped
batches) and what the in-process path runs (on the records); both return spool lines,
{"kind": "article"|"event", "data": ...}. `plan_chunk_workers` decides how many workers a chunk
gets (see `Settings.ingest_processes`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.config import Settings
from pipeline.jobs.events import outcome_event
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, Event, FetchedPage, TaggedArticle

log = logging.getLogger(__name__)

WORKER_WARM_UP = "pipeline.jobs.extract_tag:warm_up"
PROCESS_PAGES = "pipeline.jobs.extract_tag:process_pages"
TAG_LINES = "pipeline.jobs.extract_tag:tag_lines"
MIN_PAGES_PER_WORKER = 4
# with ingest_processes = 0 (auto), workers are started only for a chunk that gives each at least
# this many pages: starting one costs about 1.5 s of CPU (interpreter, spaCy, the model), about 20
# pages' worth of tagging; once started, they serve every later chunk of the same process
MIN_PAGES_PER_NEW_WORKER = 30


@dataclass
class Processed:
    lines: list[dict[str, Any]]  # spool lines: {"kind": "article"|"event", "data": ...}
    workers: int = 0  # worker processes used (0: this process)
    redone: int = 0  # batches a worker failed on, redone here


def warm_up() -> None:
    """What a worker loads once: the extractor and the tagger's spaCy model."""
    import pipeline.extract.extractor  # noqa: F401
    from pipeline.tagging.tagger import get_tagger

    get_tagger().tag("Officials said the warm-up was complete.")


def plan_chunk_workers(n_entries: int, settings: Settings) -> int:
    """Worker processes for a chunk of `n_entries` (1: none, do it in this process)."""
    from pipeline.jobs.workers import live_workers, plan_workers

    if settings.ingest_processes != 0:
        return plan_workers(n_entries, settings.ingest_processes, MIN_PAGES_PER_WORKER)
    warm = live_workers(WORKER_WARM_UP)
    wanted = plan_workers(n_entries, 0, MIN_PAGES_PER_WORKER)
    affordable = max(warm, plan_workers(n_entries, 0, MIN_PAGES_PER_NEW_WORKER))
    return min(wanted, affordable) if affordable > 1 else 1


def process_in_workers(pool: Any, pages: list[FetchedPage], run_id: str | None,
                       workers: int) -> tuple[list[dict[str, Any]], int]:
    return in_workers(pool, PROCESS_PAGES, process_pages, "pages", pages, workers, run_id=run_id)


def in_workers(pool: Any, func: str, local: Callable[[dict[str, Any]], list[dict[str, Any]]], key: str,
               items: list[Any], workers: int, **extra: Any) -> tuple[list[dict[str, Any]], int]:
    """`func({key: batch, **extra})` over small batches of `items` in the pool, in order; a batch a
    worker failed on is redone here with `local`. Returns the lines and how many batches were redone."""
    size = max(2, min(16, -(-len(items) // (3 * workers))))
    batches = [items[i:i + size] for i in range(0, len(items), size)]
    payloads = [{key: [x.model_dump(mode="json") for x in b], **extra} for b in batches]
    results = pool.map(func, payloads, workers, timeout=120.0 + 10.0 * len(items))
    lines: list[dict[str, Any]] = []
    redone = 0
    for batch, result in zip(batches, results, strict=True):
        if result.ok:
            lines += result.value
        else:
            log.warning("a worker failed on %d %s (%s); redoing them in this process", len(batch), key, result.error)
            lines += local({key: batch, **extra})
            redone += 1
    return lines, redone


def tag_stored(articles: list[Article], settings: Settings) -> Processed:
    """Tag already extracted articles (re-tagging), in worker processes when worthwhile."""
    from pipeline.jobs.workers import shared_pool

    workers = plan_chunk_workers(len(articles), settings)
    if workers > 1 and len(articles) >= 2 * MIN_PAGES_PER_WORKER:
        pool = shared_pool(WORKER_WARM_UP)
        pool.ensure(workers)
        lines, redone = in_workers(pool, TAG_LINES, tag_lines, "articles", articles, workers)
        return Processed(lines, workers, redone)
    return Processed(tag_lines({"articles": articles}))


def tag_lines(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Tag articles (models or their JSON): spool lines. A worker's job, and the in-process path."""
    articles = [a if isinstance(a, Article) else Article.model_validate(a) for a in payload["articles"]]
    return [{"kind": "article", "data": t.model_dump(mode="json")} for t in tag_articles(articles)]


def process_pages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Extract and tag fetched pages (models or their JSON): spool lines, articles then events.
    A worker's job, and the in-process path."""
    from pipeline.extract.extractor import extract_article

    run_id = payload.get("run_id")
    pages = [p if isinstance(p, FetchedPage) else FetchedPage.model_validate(p) for p in payload["pages"]]
    events: list[Event] = []
    articles: list[Article] = []
    for page in pages:
        entry = page.entry
        try:
            article = extract_article(page)
        except Exception as exc:  # a bug in one page must not sink the chunk
            log.exception("extracting %s", entry.url)
            article = None
            outcome = Outcome.failure(Status.PARSE_ERROR, f"extractor crashed: {type(exc).__name__}: {exc}")
        else:
            outcome = article.outcome
        if article is None or not outcome.ok:
            events.append(outcome_event("extract", outcome, run_id=run_id, feed_id=entry.feed_id,
                                        url=entry.url, article_id=entry.article_id))
            continue
        articles.append(article)

    tagged = tag_articles(articles)
    lines: list[dict[str, Any]] = [{"kind": "article", "data": t.model_dump(mode="json")} for t in tagged]
    lines += [{"kind": "event", "data": e.model_dump(mode="json")} for e in events]
    return lines


def tag_articles(articles: list[Article]) -> list[TaggedArticle]:
    if not articles:
        return []
    from pipeline.tagging.tagger import get_tagger

    tagger = get_tagger()
    results = tagger.tag_many([a.text for a in articles])
    return [TaggedArticle(article=a, tags=r) for a, r in zip(articles, results, strict=True)]
