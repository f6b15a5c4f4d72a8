"""The CPU-bound stages of one batch, on typed records: extract -> tag.

`extract_and_tag` is what a pool worker runs (and what the calling process runs when a worker
failed on the batch). Items that are already `Article`s (plain-text inputs, stored articles being
re-tagged) skip extraction. Every input ends either as a `TaggedArticle` or as one failure `Event`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pipeline.jobs.events import outcome_event
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, Event, FetchedPage, Processed, TaggedArticle

log = logging.getLogger(__name__)

TAG_BATCH = 16


def extract(page: FetchedPage) -> Article:
    """One page -> an Article whose outcome says whether it is one; never raises."""
    from pipeline.extract.extractor import extract_article

    try:
        return extract_article(page)
    except Exception as exc:  # a bug in one page must not sink the batch
        log.exception("extracting %s", page.entry.url)
        entry = page.entry
        return Article(article_id=entry.article_id, url=entry.url, canonical_url=entry.canonical_url,
                       outcome=Outcome.failure(Status.PARSE_ERROR,
                                               f"extractor crashed: {type(exc).__name__}: {exc}"))


def tag(articles: Sequence[Article]) -> list[TaggedArticle]:
    if not articles:
        return []
    from pipeline.tagging.tagger import get_tagger

    results = get_tagger().tag_many([a.text for a in articles], batch_size=TAG_BATCH, n_process=1)
    return [TaggedArticle(article=a, tags=r) for a, r in zip(articles, results, strict=True)]


def extract_and_tag(items: Sequence[FetchedPage | Article], run_id: str | None) -> Processed:
    articles: list[Article] = []
    events: list[Event] = []
    for item in items:
        if isinstance(item, Article):
            articles.append(item)
            continue
        article = extract(item)
        if article.outcome.ok and article.text.strip():
            articles.append(article)
        else:
            outcome = article.outcome if not article.outcome.ok else Outcome.failure(
                Status.TOO_SHORT, "no text extracted")
            entry = item.entry
            events.append(outcome_event("extract", outcome, run_id=run_id, feed_id=entry.feed_id,
                                        url=entry.url, article_id=entry.article_id))
    return Processed(articles=tag(articles), events=events)
