"""Search articles or claims: `search(es, SearchQuery) -> SearchResponse`, used by the CLI and by Python callers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch
from pydantic import BaseModel, Field

from pipeline.config import Settings
from pipeline.index.features import detect_features
from pipeline.index.names import IndexNames
from pipeline.index.transport import translated, unavailable
from pipeline.records import Story
from pipeline.search.concepts import concepts, has_syntax
from pipeline.search.query import (
    COPIES,
    GROUPS_AGG,
    UNGROUPED_AGG,
    SearchError,
    SearchQuery,
    article_request,
    claim_request,
    matching_claims_request,
    resolve_ids,
)
from pipeline.stories.store import FingerprintStore


class Bucket(BaseModel):
    key: str
    count: int


class ClaimHit(BaseModel):
    claim_id: str = ""
    article_id: str = ""
    text: str
    highlight: str | None = None
    kind: str = ""
    speaker: str | None = None
    speaker_id: str | None = None
    certainty: str | None = None
    checkworthiness: float | None = None
    about: list[str] = Field(default_factory=list)
    title: str | None = None
    url: str | None = None
    site: str | None = None
    published_at: datetime | None = None
    score: float | None = None
    story: Story | None = None  # the claim's story: `size` copies of this statement, in `outlets`


class ArticleHit(BaseModel):
    article_id: str
    score: float | None = None
    title: str | None = None
    url: str | None = None
    site: str | None = None
    published_at: datetime | None = None
    persons: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    highlights: dict[str, list[str]] = Field(default_factory=dict)
    claims: list[ClaimHit] = Field(default_factory=list)
    story: Story | None = None


class SearchResponse(BaseModel):
    mode: Literal["articles", "claims"]
    total: int
    took_ms: int = 0
    articles: list[ArticleHit] = Field(default_factory=list)
    claims: list[ClaimHit] = Field(default_factory=list)
    facets: dict[str, list[Bucket]] = Field(default_factory=dict)
    resolved: dict[str, list[str]] = Field(default_factory=dict)
    # one hit per story (per statement of a story, for claims): how many matched; None with all_copies
    stories: int | None = None
    notice: str = ""


def _bad_request_message(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
    parts: list[str] = []
    for cause in err.get("root_cause", [])[:1] + err.get("failed_shards", [{}])[:1]:
        reason = cause.get("reason") if isinstance(cause, dict) else None
        if isinstance(reason, dict):
            reason = reason.get("caused_by", {}).get("reason") or reason.get("reason")
        if reason:
            parts.append(str(reason))
    caused = err.get("caused_by", {})
    while isinstance(caused, dict) and caused:
        parts.append(str(caused.get("reason", "")))
        caused = caused.get("caused_by", {})
    parts = [p.split("Was expecting")[0].strip().rstrip(".") for p in parts]
    text = "; ".join(dict.fromkeys(p for p in parts if p)) or str(err.get("reason") or exc.message)
    return (f"Elasticsearch could not run this query: {text}. Query syntax: words, \"phrases\", "
            "AND/OR/NOT, (groups), field:value; quote or escape special characters")


def _merge_highlights(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field_name, fragments in raw.items():
        base = field_name.removesuffix(".english")
        merged = out.setdefault(base, [])
        for f in fragments:
            if f not in merged:
                merged.append(f)
    return out


def _claim_from_source(src: dict[str, Any], *, highlight: str | None = None, score: float | None = None
                       ) -> ClaimHit:
    speaker = src.get("speaker") or {}
    return ClaimHit(
        claim_id=str(src.get("claim_id") or src.get("id") or ""), article_id=str(src.get("article_id") or ""),
        text=str(src.get("text", "")), highlight=highlight, kind=str(src.get("kind", "")),
        speaker=speaker.get("name"), speaker_id=speaker.get("entity_id"),
        certainty=(src.get("certainty") or {}).get("level"), checkworthiness=src.get("checkworthiness"),
        about=list(src.get("about_names") or src.get("about") or []), title=src.get("title"),
        url=src.get("url"), site=src.get("site"), published_at=src.get("published_at"), score=score,
    )


def _facets(aggs: dict[str, Any]) -> dict[str, list[Bucket]]:
    """Buckets count stories (statements) when the search groups copies, documents otherwise."""
    out: dict[str, list[Bucket]] = {}
    for name, agg in aggs.items():
        if "buckets" not in agg:
            continue
        out[name] = [Bucket(key=str(b.get("key_as_string", b["key"])),
                            count=int(b[GROUPS_AGG]["value"] if GROUPS_AGG in b else b["doc_count"]))
                     for b in agg["buckets"]]
    return out


def _claim_story(hit: dict[str, Any]) -> Story | None:
    story = hit.get("_source", {}).get("story") or {}
    if not story.get("id"):
        return None
    copies = hit.get("inner_hits", {}).get(COPIES, {}).get("hits", {})
    shown = [c.get("_source", {}) for c in copies.get("hits", [])]
    outlets = list(dict.fromkeys(o for c in shown if (o := c.get("domain") or c.get("site"))))
    size = int(copies.get("total", {}).get("value", 1)) if copies else 1
    return Story(id=story["id"], size=max(1, size), first_url=shown[0].get("url") if shown else None,
                 outlets=outlets, outlet_count=max(1, len(outlets)))


def search(es: Elasticsearch, query: SearchQuery, settings: Settings) -> SearchResponse:
    """Run the query; raises SearchError for a query the user must fix, ClusterUnavailable when ES is down."""
    names = IndexNames(settings.index_prefix)
    try:
        english = detect_features(es).english_analyzer
        if query.claims:
            index, body = names.claims, claim_request(query, english)
        else:
            index, body = names.articles, article_request(query, english)
        resp = es.search(index=index, **body).body
        if resp.get("aggregations", {}).get(UNGROUPED_AGG, {}).get("doc_count"):
            return _without_grouping(es, query, settings, int(resp["aggregations"][UNGROUPED_AGG]["doc_count"]))
    except SearchError:
        raise
    except ApiError as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        if exc.meta.status == 404:
            raise SearchError(f"index {index!r} does not exist yet: run `newswatch index setup` "
                              "or ingest something first") from exc
        if exc.meta.status == 400:
            raise SearchError(_bad_request_message(exc)) from exc
        raise
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise
    aggs = resp.get("aggregations", {})
    out = SearchResponse(mode=query.mode, total=int(resp["hits"]["total"]["value"]), took_ms=int(resp.get("took", 0)),
                         facets=_facets(aggs), resolved=_resolved(query),
                         stories=int(aggs[GROUPS_AGG]["value"]) if GROUPS_AGG in aggs else None)
    for hit in resp["hits"]["hits"]:
        src = hit.get("_source", {})
        highlights = _merge_highlights(hit.get("highlight", {}))
        if query.claims:
            hl = (highlights.get("text") or [None])[0]
            claim = _claim_from_source(src, highlight=hl, score=hit.get("_score"))
            claim.story = _claim_story(hit)
            out.claims.append(claim)
            continue
        article = ArticleHit(
            article_id=hit["_id"], score=hit.get("_score"), title=src.get("title"), url=src.get("url"),
            site=src.get("site"), published_at=src.get("published_at"), persons=src.get("persons", []),
            organizations=src.get("organizations", []), places=src.get("places", []), highlights=highlights,
            story=Story.model_validate(src["story"]) if src.get("story") else None)
        for inner in hit.get("inner_hits", {}).get("claims", {}).get("hits", {}).get("hits", []):
            ihl = _merge_highlights(inner.get("highlight", {})).get("claims.text")
            claim = _claim_from_source(inner.get("_source", {}), highlight=ihl[0] if ihl else None,
                                       score=inner.get("_score"))
            claim.article_id = hit["_id"]
            article.claims.append(claim)
        out.articles.append(article)
    if query.text and not query.claims and not (query.speakers or query.certainty) and out.articles:
        _attach_matching_claims(es, names.claims, query, out.articles, english=english)
    _current_stories(es, names, out.articles)
    return out


def _current_stories(es: Elasticsearch, names: IndexNames, articles: list[ArticleHit]) -> None:
    """Each hit's story as it is now: an earlier copy's own fields lag while its story grows
    (pipeline.stories.freshness). Without the fingerprints, the copies' fields are shown."""
    ids = {a.story.id for a in articles if a.story is not None}
    if not ids:
        return
    try:
        with translated(es):
            current = FingerprintStore(es, names).summaries(ids)
    except ApiError as exc:
        if exc.meta.status == 404:
            return
        raise
    for a in articles:
        if a.story is not None and a.story.id in current:
            a.story = current[a.story.id]


def _without_grouping(es: Elasticsearch, query: SearchQuery, settings: Settings, ungrouped: int) -> SearchResponse:
    """Documents from before stories cannot be collapsed (they would fall into one group): list every copy."""
    out = search(es, query.model_copy(update={"all_copies": True}), settings)
    out.notice = (f"{ungrouped} matching document(s) have no story yet, so copies are listed one by one; "
                  "run the news_reprocess DAG with action=stories (or `newswatch index stories`) to group them")
    return out


def _resolved(query: SearchQuery) -> dict[str, list[str]]:
    """Name -> entity ids, for --entity/--speaker names and for the entities recognised in the query text."""
    out = {n: resolve_ids(n) for n in [*query.entities, *query.speakers]}
    if query.text and not has_syntax(query.text):
        for c in concepts(query.text):
            if c.entity_id is not None:
                out.setdefault(c.text, [c.entity_id])
    return out


def _attach_matching_claims(es: Elasticsearch, index: str, query: SearchQuery, articles: list[ArticleHit],
                            per_article: int = 3, english: bool = False) -> None:
    body = matching_claims_request(query, [a.article_id for a in articles], per_article, english=english)
    try:
        resp = es.search(index=index, **body).body
    except ApiError:
        return  # the articles are the answer; matching claims are a bonus
    by_id = {a.article_id: a for a in articles}
    for hit in resp["hits"]["hits"]:
        article = by_id.get(hit["_source"].get("article_id", ""))
        if article is None or len(article.claims) >= per_article:
            continue
        hl = _merge_highlights(hit.get("highlight", {})).get("text")
        article.claims.append(_claim_from_source(hit["_source"], highlight=hl[0] if hl else None,
                                                 score=hit.get("_score")))


__all__ = ["ArticleHit", "Bucket", "ClaimHit", "SearchError", "SearchQuery", "SearchResponse", "search"]
