"""Give stories to articles indexed before story clustering existed (or re-check them all): the stored
articles, oldest first, go through the same clustering as at ingest, in batches. Idempotent: an article
already fingerprinted keeps its story, so a second run changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from elasticsearch import Elasticsearch, helpers

from pipeline.config import Settings
from pipeline.index.documents import article_from_document
from pipeline.index.names import IndexNames
from pipeline.index.transport import translated
from pipeline.records import Article
from pipeline.stories.assign import Stories

log = logging.getLogger(__name__)

BATCH = 500
_FIELDS = ["url", "canonical_url", "text", "domain", "site", "fetched_at", "title"]


@dataclass
class BackfillReport:
    articles: int = 0
    stories: int = 0  # stories of more than one copy touched
    updated: int = 0  # article documents whose story fields were written

    def line(self) -> str:
        return (f"stories: {self.articles} article(s) clustered, {self.stories} multi-copy story(ies), "
                f"{self.updated} article document(s) updated")


def missing_only() -> dict:
    return {"bool": {"must_not": [{"exists": {"field": "story.id"}}]}}


def backfill(es: Elasticsearch, settings: Settings, *, only_missing: bool = False, limit: int | None = None,
             progress: Callable[[int], None] | None = None) -> BackfillReport:
    """Cluster the stored articles, oldest first (`only_missing`: those with no story field, i.e. indexed
    by a version without stories; articles already fingerprinted are cheap either way)."""
    names = IndexNames(settings.index_prefix)
    stories = Stories(es, settings)
    report = BackfillReport()
    batch: list[Article] = []
    multi: set[str] = set()

    def flush() -> None:
        assignment = stories.assign(batch)
        ids = [a.article_id for a in batch]
        report.updated += stories.sync(assignment, restamp=ids)
        report.articles += len(batch)
        multi.update(sid for sid, s in assignment.stories.items() if s.size > 1)
        if progress:
            progress(len(batch))
        batch.clear()

    query = missing_only() if only_missing else {"match_all": {}}
    with translated(es):
        for n, hit in enumerate(helpers.scan(es, index=names.articles, _source=_FIELDS, preserve_order=True,
                                             query={"query": query, "sort": [{"fetched_at": "asc"}, "_doc"]},
                                             size=BATCH)):
            if limit is not None and n >= limit:
                break
            batch.append(article_from_document({**hit["_source"], "article_id": hit["_id"],
                                                "extraction": {"status": "ok"}}))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    report.stories = len(multi)
    log.info("%s", report.line())
    return report
