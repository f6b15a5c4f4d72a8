"""Evaluate watches against what was indexed in a window: every watch's search, batched.

Each watch's search is built by pipeline.search (the same request `newswatch search` sends, so aliases,
concepts and Lucene syntax mean the same), restricted to `indexed_at` in the watch's window and sorted by
(`indexed_at`, id) so a watch with many matches pages with `search_after`. Evaluation asks only *which*
documents match (no `_source`, highlights or inner hits): all the searches of a round go to Elasticsearch in
`_msearch` requests of `batch` searches, and watches whose page was full get another round.
`evaluate_naive` sends the same searches one by one (the benchmark's baseline).

What a message shows is fetched later and only for what it shows: plain snapshots of new matches by id
(`fetch_items`, a multi-get), and highlights for the at most `max_items` listed in a message
(`detailed_items`: the watch's search restricted to those ids).

The percolator (the inverse: documents against stored queries) is not used: the embedded dev node has no
percolator module, so it could not be tested here; see docs/alerts.md for the design and the open work.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.alerts.model import HL_POST, HL_PRE, AlertItem, Watch, WatchSearch
from pipeline.index.names import IndexNames
from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)

PAGE = 500  # hits per watch per round
BATCH = 100  # searches per _msearch request

CLAIM_SOURCE = ["claim_id", "article_id", "text", "kind", "speaker.name", "certainty.level", "title", "site", "url",
                "published_at", "indexed_at"]
ARTICLE_SOURCE = ["article_id", "title", "site", "url", "published_at", "indexed_at", "summary", "description"]


@dataclass(frozen=True)
class Window:
    """indexed_at in [since, until]."""

    since: datetime
    until: datetime


@dataclass
class Evaluation:
    matches: dict[str, list[str]] = field(default_factory=dict)  # watch id -> matched doc ids, in index order
    groups: dict[str, str] = field(default_factory=dict)  # doc id -> its story (claims: statement) key
    seen: dict[str, set[str]] = field(default_factory=dict)  # watch id -> story keys matched
    errors: dict[str, str] = field(default_factory=dict)  # watch id -> why its search failed
    searches: int = 0
    requests: int = 0
    seconds: float = 0.0
    method: str = "msearch"

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.matches.values())


def search_query(search: WatchSearch, size: int = PAGE) -> Any:
    from pipeline.search.query import SearchQuery

    return SearchQuery(text=search.text, entities=search.entities, speakers=search.speakers,
                       certainty=search.certainty, sites=search.sites, claims=search.claims, size=size,
                       facets=False, highlight_tags=(HL_PRE, HL_POST))


def _base_request(search: WatchSearch, english: bool, size: int) -> dict[str, Any]:
    from pipeline.search.query import article_request, claim_request

    q = search_query(search, size)
    body = claim_request(q, english) if search.claims else article_request(q, english)
    for key in ("aggs", "from", "track_total_hits", "collapse"):  # every document; copies are merged below
        body.pop(key, None)
    body["track_total_hits"] = False
    body["size"] = size
    return body


def _without_inner_hits(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_inner_hits(v) for k, v in node.items() if k != "inner_hits"}
    if isinstance(node, list):
        return [_without_inner_hits(v) for v in node]
    return node


def watch_request(search: WatchSearch, window: Window | None, english: bool, *, size: int = PAGE,
                  search_after: list[Any] | None = None) -> dict[str, Any]:
    """Which documents match, nothing else: pipeline.search's request for the watch's filters, within the
    window, in index order, without highlights, inner hits or `_source` (those are fetched at delivery for
    the matches a message shows). Raises pipeline.search.SearchError for a search the user must fix."""
    body = _base_request(search, english, size)
    body.pop("highlight", None)
    body["query"] = _without_inner_hits(body["query"])
    if window is not None:
        body["query"] = {"bool": {"must": [body["query"]], "filter": [{"range": {"indexed_at": {
            "gte": window.since.isoformat(), "lte": window.until.isoformat()}}}]}}
    id_field = "claim_id" if search.claims else "article_id"
    body["sort"] = [{"indexed_at": {"order": "asc"}}, {id_field: {"order": "asc"}}]
    body["_source"] = False
    body["docvalue_fields"] = [group_field(search)]
    if search_after:
        body["search_after"] = search_after
    return body


def group_field(search: WatchSearch) -> str:
    """Copies of one story (of one statement, for claims) share this field: a watch tells of them once."""
    from pipeline.search.query import CLAIM_KEY_FIELD, STORY_FIELD

    return CLAIM_KEY_FIELD if search.claims else STORY_FIELD


def _add_hits(out: Evaluation, watch: Watch, hits: list[dict[str, Any]]) -> None:
    """The matches of a watch, one per story: the first copy found stands for the others."""
    seen = out.seen.setdefault(watch.watch_id, set())
    field_name = group_field(watch.search)
    for h in hits:
        group = (h.get("fields", {}).get(field_name) or [h["_id"]])[0]
        if group in seen:
            continue
        seen.add(group)
        out.groups[h["_id"]] = group
        out.matches[watch.watch_id].append(h["_id"])


def detail_request(search: WatchSearch, doc_ids: list[str], english: bool) -> dict[str, Any]:
    """The watch's search over just these documents, with highlights (and, for speaker/certainty watches on
    articles, the claim that matched): what a message shows about each."""
    body = _base_request(search, english, len(doc_ids))
    body["query"] = {"bool": {"must": [body["query"]], "filter": [{"ids": {"values": doc_ids}}]}}
    body["_source"] = CLAIM_SOURCE if search.claims else ARTICLE_SOURCE
    body.pop("sort", None)
    fields = body.get("highlight", {}).get("fields", {})
    for name in [f for f in fields if f.startswith("summary")]:
        del fields[name]  # a message shows one passage: the first fragment of the body, else the title
    for name in [f for f in fields if f.startswith("text") and not search.claims]:
        fields[name] = {**fields[name], "number_of_fragments": 1}
    return body


def index_for(search: WatchSearch, names: IndexNames) -> str:
    return names.claims if search.claims else names.articles


# hits -> items -----------------------------------------------------------------------------------

def plain(highlighted: str) -> str:
    return highlighted.replace(HL_PRE, "").replace(HL_POST, "")


def _first(highlight: dict[str, list[str]], *fields: str) -> str | None:
    for name in fields:
        for candidate in (name, f"{name}.english"):
            if highlight.get(candidate):
                return highlight[candidate][0]
    return None


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def item_from_hit(hit: dict[str, Any], claims: bool) -> AlertItem:
    src = hit.get("_source", {})
    highlight = hit.get("highlight", {})
    common = {"article_id": str(src.get("article_id") or ""), "title": src.get("title"), "site": src.get("site"),
              "url": src.get("url"), "published_at": src.get("published_at"), "indexed_at": src.get("indexed_at")}
    if claims:
        text = _squash(src.get("text", ""))
        marked = _squash(_first(highlight, "text") or text)
        return AlertItem(doc_kind="claim", doc_id=str(src.get("claim_id") or hit["_id"]), **common,
                         speaker=(src.get("speaker") or {}).get("name"),
                         certainty=(src.get("certainty") or {}).get("level"), claim_kind=src.get("kind"),
                         text=plain(marked) if marked else text, highlighted=marked)
    inner = hit.get("inner_hits", {}).get("claims", {}).get("hits", {}).get("hits", [])
    if inner:  # a speaker/certainty watch: the claim that matched
        claim = inner[0].get("_source", {})
        marked = _squash(_first(inner[0].get("highlight", {}), "claims.text") or claim.get("text", ""))
        return AlertItem(doc_kind="article", doc_id=str(src.get("article_id") or hit["_id"]), **common,
                         speaker=(claim.get("speaker") or {}).get("name"),
                         certainty=(claim.get("certainty") or {}).get("level"), claim_kind=claim.get("kind"),
                         text=plain(marked), highlighted=marked)
    marked = _squash(_first(highlight, "text", "summary", "title") or src.get("summary") or src.get("description")
                     or "")
    return AlertItem(doc_kind="article", doc_id=str(src.get("article_id") or hit["_id"]), **common,
                     text=plain(marked), highlighted=marked)


# evaluation --------------------------------------------------------------------------------------

WindowFor = Callable[[Watch], Window]


def evaluate(es: Elasticsearch, watches: Iterable[Watch], window_for: WindowFor, names: IndexNames, english: bool,
             *, batch: int = BATCH, page: int = PAGE) -> Evaluation:
    """Every watch's matches in its window, through batched _msearch requests (raises ClusterUnavailable)."""
    from pipeline.search.query import SearchError

    started = time.perf_counter()
    out = Evaluation(method="msearch")
    todo: list[tuple[Watch, list[Any] | None]] = []
    for w in watches:
        out.matches[w.watch_id] = []
        todo.append((w, None))
    while todo:
        requests: list[tuple[Watch, dict[str, Any]]] = []
        for w, after in todo:
            try:
                requests.append((w, watch_request(w.search, window_for(w), english, size=page, search_after=after)))
            except SearchError as exc:
                out.errors[w.watch_id] = str(exc)
        todo = []
        for start in range(0, len(requests), batch):
            chunk = requests[start:start + batch]
            searches: list[dict[str, Any]] = []
            for w, body in chunk:
                searches += [{"index": index_for(w.search, names)}, body]
            with translated(es):
                resp = es.msearch(searches=searches)
            out.requests += 1
            out.searches += len(chunk)
            for (w, _), answer in zip(chunk, resp["responses"], strict=True):
                if "error" in answer:
                    out.errors[w.watch_id] = _error_text(answer)
                    continue
                hits = answer["hits"]["hits"]
                _add_hits(out, w, hits)
                if len(hits) == page:
                    todo.append((w, hits[-1]["sort"]))
    for wid in out.errors:
        out.matches.pop(wid, None)
    out.seconds = time.perf_counter() - started
    return out


def evaluate_naive(es: Elasticsearch, watches: Iterable[Watch], window_for: WindowFor, names: IndexNames,
                   english: bool, *, page: int = PAGE) -> Evaluation:
    """The baseline: one search request per watch (and per page), in a loop. Same matches as `evaluate`."""
    started = time.perf_counter()
    out = Evaluation(method="naive")
    for w in watches:
        out.matches[w.watch_id] = []
        after: list[Any] | None = None
        while True:
            body = watch_request(w.search, window_for(w), english, size=page, search_after=after)
            with translated(es):
                resp = es.search(index=index_for(w.search, names), **body)
            out.requests += 1
            out.searches += 1
            hits = resp["hits"]["hits"]
            _add_hits(out, w, hits)
            if len(hits) < page:
                break
            after = hits[-1]["sort"]
    out.seconds = time.perf_counter() - started
    return out


# documents -> items ----------------------------------------------------------------------------------

def fetch_items(es: Elasticsearch, doc_ids: Iterable[str], claims: bool, names: IndexNames) -> dict[str, AlertItem]:
    """Plain snapshots (no highlights) of these claims or articles, by id (a realtime multi-get)."""
    ids = list(dict.fromkeys(doc_ids))
    out: dict[str, AlertItem] = {}
    index = names.claims if claims else names.articles
    for start in range(0, len(ids), 1000):
        with translated(es):
            resp = es.mget(index=index, ids=ids[start:start + 1000],
                           source_includes=CLAIM_SOURCE if claims else ARTICLE_SOURCE)
        for doc in resp["docs"]:
            if doc.get("found"):
                out[doc["_id"]] = item_from_hit(doc, claims)
    return out


def detailed_items(es: Elasticsearch, search: WatchSearch, items: list[AlertItem], names: IndexNames,
                   english: bool) -> list[AlertItem]:
    """`items` with the matched words highlighted (and an article's matching claim) where the documents still
    match; the others stay as they were (e.g. re-tagged since)."""
    if not items:
        return []
    with translated(es):
        resp = es.search(index=index_for(search, names),
                         **detail_request(search, [i.doc_id for i in items], english))
    found = {h["_id"]: item_from_hit(h, search.claims) for h in resp["hits"]["hits"]}
    return [found[i.doc_id].model_copy(update={"indexed_at": i.indexed_at}) if i.doc_id in found else i
            for i in items]


def _error_text(answer: dict[str, Any]) -> str:
    err = answer.get("error", {})
    if not isinstance(err, dict):
        return str(err)
    causes = err.get("root_cause") or []
    reason = (causes[0].get("reason") if causes and isinstance(causes[0], dict) else None) or err.get("reason")
    caused = err.get("caused_by") or {}
    if isinstance(caused, dict) and caused.get("reason"):
        reason = f"{reason}: {caused['reason']}"
    return f"{err.get('type', 'error')}: {reason} (HTTP {answer.get('status', '?')})"
