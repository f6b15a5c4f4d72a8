"""Re-tag stored articles (after a tagger upgrade) and update both indices.

    select_stored  stored articles matching a query / date range whose tagger version differs
                   from the target, spooled in chunks                       -> [ChunkManifest]
    retag_chunk    tag one spooled chunk with the installed tagger and index it (the writer
                   replaces each article's claims), through `flow`          -> ChunkManifest
    (then ingest.index_chunk, for what the cluster could not take)

The target version must be the installed tagger's: re-tagging cannot produce another version.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.index.transport import translated
from pipeline.jobs.ingest import ChunkManifest, es_client, run_chunk, settled
from pipeline.records import Article
from pipeline.spool import RETAG, Spool

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)


class TaggerVersionMismatch(ValueError):
    """The requested target version is not the installed tagger's; raised before anything changes."""


def installed_tagger_version() -> str:
    from pipeline.tagging.tagger import TAGGER_VERSION

    return TAGGER_VERSION


def stored_articles_query(query: str | None = None, since: datetime | str | None = None,
                          until: datetime | str | None = None,
                          target_version: str | None = None) -> dict[str, Any]:
    """The Elasticsearch query selecting articles to re-tag."""
    must: list[dict[str, Any]] = []
    if query:
        must.append({"simple_query_string": {"query": query, "fields": ["title^2", "text"],
                                             "default_operator": "and"}})
    if since or until:
        bounds = {k: (v.isoformat() if isinstance(v, datetime) else v)
                  for k, v in (("gte", since), ("lte", until)) if v}
        must.append({"range": {"published_at": bounds}})
    must_not = [{"term": {"tagger.version": target_version}}] if target_version else []
    return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}


def select_stored(settings: Settings, spool: Spool, run_key: str, *, query: str | None = None,
                  since: datetime | str | None = None, until: datetime | str | None = None,
                  target_version: str | None = None, limit: int = 10_000) -> list[ChunkManifest]:
    """Spool the matching stored articles in chunks; returns the chunk manifests."""
    from elasticsearch import helpers

    from pipeline.index.documents import article_from_document
    from pipeline.index.names import IndexNames

    installed = installed_tagger_version()
    target = target_version or installed
    if target != installed:
        raise TaggerVersionMismatch(f"target tagger version {target!r} is not the installed one ({installed!r})")
    from pipeline.index.setup import ensure_indices

    es = es_client(settings)
    ensure_indices(es, settings)  # this run's set-up step
    body = {"query": stored_articles_query(query, since, until, target)}
    size = max(1, settings.ingest_chunk_size)
    chunks: list[ChunkManifest] = []
    batch: list[Any] = []

    def flush() -> None:
        chunk_id = f"{run_key}.r{len(chunks)}"
        spool.write(RETAG, chunk_id, batch)
        chunks.append(ChunkManifest(chunk_id=chunk_id, entries=len(batch)))
        batch.clear()

    with translated(es):
        for n, hit in enumerate(helpers.scan(es, index=IndexNames(settings.index_prefix).articles,
                                             query=body, size=min(500, limit), preserve_order=False)):
            if n >= limit:
                log.warning("reprocess: stopping at limit=%d", limit)
                break
            batch.append(article_from_document({**hit["_source"], "article_id": hit["_id"]}))
            if len(batch) >= size:
                flush()
    if batch:
        flush()
    if not chunks:
        log.info("reprocess: nothing to re-tag: %s",
                 explain_empty_selection(es, settings, query=query, since=since, until=until, target_version=target))
    return chunks


def explain_empty_selection(es: Elasticsearch, settings: Settings, *, query: str | None = None,
                            since: datetime | str | None = None, until: datetime | str | None = None,
                            target_version: str | None = None) -> str:
    """Why a selection found nothing to re-tag, in words for the run's log and summary."""
    from pipeline.index.names import IndexNames

    index = IndexNames(settings.index_prefix).articles
    target = target_version or installed_tagger_version()
    with translated(es):
        if not es.indices.exists(index=index):
            return f"no articles index {index} yet: nothing has been ingested"
        total = int(es.count(index=index)["count"])
        if total == 0:
            return f"no articles in index {index}"
        filters = [f"{k}={v!r}" for k, v in (("query", query), ("since", since), ("until", until)) if v]
        if not filters:
            return f"all {total} stored articles already have tagger version {target}"
        matching = int(es.count(index=index, query=stored_articles_query(query, since, until))["count"])
        selection = ", ".join(filters)
        if matching == 0:
            return f"none of the {total} stored articles matches the selection ({selection})"
        return (f"all {matching} stored articles matching the selection ({selection}) already have tagger "
                f"version {target}")


def why_nothing_to_retag(settings: Settings, *, query: str | None = None, since: datetime | str | None = None,
                         until: datetime | str | None = None, target_version: str | None = None) -> str:
    """`explain_empty_selection` with its own client (for the DAG's summary)."""
    return explain_empty_selection(es_client(settings), settings, query=query, since=since, until=until,
                                   target_version=target_version)


def retag_chunk(chunk: ChunkManifest, spool: Spool, settings: Settings) -> ChunkManifest:
    """Tag one spooled chunk of stored articles and index the result (the writer replaces each
    article's claims); what the cluster could not take waits for ingest.index_chunk."""
    chunk_id = chunk["chunk_id"]
    early = settled(chunk_id, RETAG, spool)
    if early is not None:
        return early
    articles = [Article.model_validate(r) for r in spool.read(RETAG, chunk_id)]
    done = run_chunk(chunk_id, RETAG, spool, settings, es_client(settings), ready=articles)
    done.update(entries=len(articles))
    return done
