"""Build Elasticsearch request bodies from a SearchQuery (pure functions: unit-testable without a cluster).

Entity and speaker names resolve through the tagger's alias table (`pipeline.tagging.aliases`), so
"DPRK" matches articles whose entities were canonicalised to `gpe:north-korea` from "North Korea".

Free text is matched concept by concept (`pipeline.search.concepts`): a content word matches in any searched
field, by its exact form or its English stem ("elections" finds "election"); an entity the alias table knows
matches its id or any of its names ("DPRK" finds "North Korea" in the text). One or two concepts must all
match, three need two, longer queries half (`MIN_CONCEPTS`), so an unusual word does not lose the article.
Matches weigh more in the title, the entities and the claims than in the body (`WORD_FIELDS`). Queries in
Lucene syntax go to `query_string` unchanged (all words required, operators as written).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from pipeline.index.derive import flatten_properties
from pipeline.index.mappings import mapping_for
from pipeline.search.concepts import Concept, concepts, has_syntax
from pipeline.tagging.schema import CertaintyLevel


class SearchError(ValueError):
    """A query the user has to fix (syntax error, unknown field, bad date); the message says how."""


class SearchQuery(BaseModel):
    text: str = ""
    entities: list[str] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    certainty: CertaintyLevel | None = None
    sites: list[str] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    claims: bool = False
    # one hit per story (articles) or per statement of a story (claims); True lists every copy
    all_copies: bool = False
    size: int = Field(default=10, ge=0, le=500)
    offset: int = Field(default=0, ge=0, le=10_000)
    facets: bool = True
    facet_size: int = Field(default=10, ge=1, le=100)
    highlight_tags: tuple[str, str] = ("<em>", "</em>")
    # the order of the hits, one of SORTS[mode]; `sort_problem` says why another cannot be used
    sort: str = "relevance"

    @field_validator("entities", "speakers", "sites")
    @classmethod
    def _strip(cls, values: list[str]) -> list[str]:
        return [v.strip() for v in values if v and v.strip()]

    @field_validator("sort")
    @classmethod
    def _sort_key(cls, value: str) -> str:
        return value.strip().lower() or "relevance"

    @property
    def mode(self) -> Literal["articles", "claims"]:
        return "claims" if self.claims else "articles"


def resolve_ids(name: str) -> list[str]:
    from pipeline.tagging.aliases import ids_for_query

    return list(ids_for_query(name))


# Lucene-syntax queries (query_string): the fields searched when the query names none.
ARTICLE_TEXT_FIELDS = ("title^3", "summary^2", "description", "text", "entity_names^2", "entity_aliases", "speakers",
                       "entity_text^2", "claim_text^1.5")
CLAIM_TEXT_FIELDS = ("text^2", "title", "speaker.name", "about_names", "entity_text^1.5")

# Free text: (field, weight) per concept word; prose fields are searched through their English stems too
# (`.english`, when the cluster has the analyzer). A match in the title, the entities or a claim counts
# more than one in the body.
WORD_FIELDS = {
    "articles": (("title", 3.0), ("entity_text", 2.0), ("summary", 2.0), ("claim_text", 1.5), ("description", 1.0),
                 ("text", 1.0)),
    "claims": (("text", 2.0), ("entity_text", 1.5), ("title", 1.0), ("speaker.name", 1.0)),
}
ENGLISH_FIELDS = frozenset({"title", "summary", "description", "text", "claim_text"})
# the fields holding entity ids, and the boost of a matching id (the tagger resolved the name: strong evidence)
ENTITY_ID_FIELDS = {"articles": ("entity_ids",), "claims": ("about", "speaker.entity_id")}
ENTITY_ID_BOOST = 2.0
TIE_BREAKER = 0.3  # share of the other fields' scores added to the best field's, per concept
MIN_CONCEPTS = "2<-1 3<50%"  # one or two concepts: all; three: two; more: half (rounded down)
PHRASE_SLOP = 2  # the words typed close together in the title or body: a bonus, never a requirement
_FIELD_REF = re.compile(r"(?<![\w.\\])([A-Za-z_@][\w.]*)\s*:(?!//)")
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"')


def searchable_fields(kind: str, english: bool) -> set[str]:
    return set(flatten_properties(mapping_for(kind, english)["properties"]))


def check_fields(text: str, kind: str, english: bool) -> None:
    """Reject `field:value` terms naming fields the index does not have (ES would silently match nothing)."""
    known = searchable_fields(kind, english) | {"_exists_", "_id"}
    unquoted = _QUOTED.sub(" ", text)
    unknown = sorted({f for f in _FIELD_REF.findall(unquoted) if "*" not in f and f not in known})
    if unknown:
        hint = ", ".join(sorted(f for f in known if "." not in f)[:25])
        raise SearchError(f"unknown field(s) {', '.join(repr(u) for u in unknown)} in the query; "
                          f"fields of the {kind} index include: {hint}")


def _text_fields(fields: tuple[str, ...], english: bool) -> list[str]:
    out = list(fields)
    if english:
        for f in fields:
            base, _, boost = f.partition("^")
            if base in ENGLISH_FIELDS:
                out.append(f"{base}.english" + (f"^{boost}" if boost else ""))
    return out


def _query_string(text: str, fields: list[str]) -> dict[str, Any]:
    return {"query_string": {"query": text, "fields": fields, "default_operator": "AND", "lenient": True}}


def word_fields(kind: str, english: bool) -> list[str]:
    out: list[str] = []
    for name, weight in WORD_FIELDS[kind]:
        out.append(_weighted(name, weight))
        if english and name in ENGLISH_FIELDS:
            out.append(_weighted(f"{name}.english", weight))
    return out


def _weighted(name: str, weight: float) -> str:
    return name if weight == 1.0 else f"{name}^{weight:g}"


def concept_clause(c: Concept, kind: str, english: bool) -> dict[str, Any]:
    """One concept as a query: a word in any weighted field (all of its tokens: "COVID-19"), or an entity by
    id or by any of its names as a phrase."""
    if not c.is_entity:
        return {"multi_match": {"query": c.text, "fields": word_fields(kind, english), "type": "best_fields",
                                "tie_breaker": TIE_BREAKER, "operator": "and"}}
    phrase_fields = [_weighted(name, weight) for name, weight in WORD_FIELDS[kind]]
    options: list[dict[str, Any]] = [{"term": {f: {"value": c.entity_id, "boost": ENTITY_ID_BOOST}}}
                                     for f in ENTITY_ID_FIELDS[kind]]
    options += [{"multi_match": {"query": form, "type": "phrase", "fields": phrase_fields}} for form in c.forms]
    return {"dis_max": {"queries": options, "tie_breaker": TIE_BREAKER}}


def free_text_query(text: str, kind: str, english: bool) -> dict[str, Any]:
    """The scored query for free text (no Lucene syntax)."""
    cs = concepts(text)
    if not cs:
        return {"match_none": {}}
    required = {"bool": {"should": [concept_clause(c, kind, english) for c in cs],
                         "minimum_should_match": MIN_CONCEPTS}}
    bonus: list[dict[str, Any]] = []
    if len(cs) > 1:
        main_fields = ["title^3", "text"] if kind == "articles" else ["text^2", "title"]
        bonus.append({"multi_match": {"query": text, "type": "phrase", "slop": PHRASE_SLOP, "fields": main_fields}})
    if not bonus:
        return required
    return {"bool": {"must": [required], "should": bonus}}


def text_query(text: str, kind: str, english: bool) -> dict[str, Any]:
    """Lucene syntax -> query_string over the default fields; free text -> `free_text_query`."""
    if has_syntax(text):
        check_fields(text, kind, english)
        fields = ARTICLE_TEXT_FIELDS if kind == "articles" else CLAIM_TEXT_FIELDS
        return _query_string(text, _text_fields(fields, english))
    return free_text_query(text, kind, english)


def _name_filter(name: str, id_field: str, name_matches: list[dict[str, Any]]) -> dict[str, Any]:
    """An --entity or --speaker filter. A name the alias table knows stands for its entity id alone, so every
    name of one entity selects the same documents (a name match would add documents where those words are
    another entity, "U.S." tagged as a person, "United States Steel"); any other name matches the ids the
    tagger would mint for it or the name itself."""
    from pipeline.tagging.aliases import canonical_id

    known = canonical_id(name)
    if known is not None:
        return {"terms": {id_field: [known]}}
    ids = resolve_ids(name)
    should = ([{"terms": {id_field: ids}}] if ids else []) + name_matches
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _date_range(q: SearchQuery) -> dict[str, Any] | None:
    if q.since and q.until and q.since > q.until:
        raise SearchError(f"--since {q.since.isoformat()} is after --until {q.until.isoformat()}")
    bounds: dict[str, str] = {}
    if q.since:
        bounds["gte"] = q.since.isoformat()
    if q.until:
        bounds["lte"] = q.until.isoformat()
    return {"range": {"published_at": bounds}} if bounds else None


def _sites(q: SearchQuery) -> dict[str, Any] | None:
    if not q.sites:
        return None
    return {"bool": {"should": [{"terms": {"site": q.sites}}, {"terms": {"domain": q.sites}}],
                     "minimum_should_match": 1}}


def _highlight(fields: dict[str, dict[str, Any]], q: SearchQuery) -> dict[str, Any]:
    pre, post = q.highlight_tags
    return {"pre_tags": [pre], "post_tags": [post], "fields": fields, "require_field_match": False}


# The orders a search can ask for (`SearchQuery.sort`). "relevance", the default, is the best match first when
# there are words and newest first without them (every hit scores the same then).
SORTS: dict[str, tuple[str, ...]] = {
    "articles": ("relevance", "newest", "oldest"),
    "claims": ("relevance", "newest", "oldest", "checkworthiness", "speaker"),
}
SPEAKER_FIELD = "speaker.name.keyword"
_NEWEST = {"published_at": {"order": "desc", "missing": "_last"}}
_OLDEST = {"published_at": {"order": "asc", "missing": "_last"}}
_CHECKWORTHY = {"checkworthiness": {"order": "desc", "missing": "_last"}}
# a claim whose speaker has a name; an unresolved speaker's name is "" (sorts first), so it has to be told apart
_NAMED_SPEAKER = {"bool": {"filter": [{"exists": {"field": SPEAKER_FIELD}}],
                           "must_not": [{"term": {SPEAKER_FIELD: ""}}]}}


def sort_problem(sort: str, claims: bool = False) -> str | None:
    """Why `sort` cannot order this search, as a message for the user; None when it can."""
    mode = "claims" if claims else "articles"
    if sort in SORTS[mode]:
        return None
    known = ", ".join(SORTS[mode])
    if sort in SORTS["claims"]:
        return f"sort {sort!r} orders claims only (search claims to use it); articles sort by {known}"
    return f"unknown sort {sort!r}; {mode} sort by {known}"


def _sort(q: SearchQuery, kind: Literal["articles", "claims"]) -> list[Any]:
    if (problem := sort_problem(q.sort, kind == "claims")) is not None:
        raise SearchError(problem)
    if q.sort == "relevance":  # the order from before sorting was an option, unchanged
        if kind == "articles":
            return ["_score", _NEWEST] if q.text else [_NEWEST, "_score"]
        return ["_score", {"checkworthiness": "desc"}] if q.text else [_NEWEST, {"checkworthiness": "desc"}]
    tail = [_CHECKWORTHY] if kind == "claims" else []
    return {
        "newest": [_NEWEST, "_score", *tail],
        "oldest": [_OLDEST, "_score", *tail],
        "checkworthiness": [_CHECKWORTHY, "_score", _NEWEST],
        # the score is 1 for a named speaker and 0 otherwise (`_named_speakers_first`): unattributed claims last
        "speaker": ["_score", {SPEAKER_FIELD: {"order": "asc", "missing": "_last"}}, _NEWEST, _CHECKWORTHY],
    }[q.sort]


def _named_speakers_first(query: dict[str, Any]) -> dict[str, Any]:
    """The query as a filter, scored 1 for a claim with a named speaker and 0 for one without (the embedded node
    has no scripts to sort on "name or nothing")."""
    return {"bool": {"filter": [query], "should": [{"constant_score": {"filter": _NAMED_SPEAKER}}]}}


def date_interval(q: SearchQuery) -> str:
    """Calendar interval for the date facet (auto_date_histogram lives in a module the embedded node lacks)."""
    if q.since and q.until:
        days = (q.until - q.since).days
        return "day" if days <= 62 else "week" if days <= 366 else "month"
    if q.since:
        return "day" if (datetime.now(q.since.tzinfo) - q.since).days <= 62 else "week"
    return "week"


def _date_facet(q: SearchQuery) -> dict[str, Any]:
    return {"date_histogram": {"field": "published_at", "calendar_interval": date_interval(q), "min_doc_count": 1}}


def article_request(q: SearchQuery, english: bool) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    if q.text:
        must.append(text_query(q.text, "articles", english))
    for name in q.entities:
        filters.append(_name_filter(name, "entity_ids", [
            {"nested": {"path": "entities", "query": {"match_phrase": {"entities.name": name}}}},
            {"term": {"entity_names": name}},
            {"term": {"entity_aliases": name}},
        ]))
    for clause in (_sites(q), _date_range(q)):
        if clause:
            filters.append(clause)
    claim_hl = {"claims.text": {"number_of_fragments": 0}}
    inner_hits = {"name": "claims", "size": 3, "_source": True, "highlight": _highlight(claim_hl, q)}
    claim_filters: list[dict[str, Any]] = []
    for name in q.speakers:
        claim_filters.append(_name_filter(name, "claims.speaker.entity_id",
                                          [{"match_phrase": {"claims.speaker.name": name}}]))
    if q.certainty:
        claim_filters.append({"term": {"claims.certainty.level": q.certainty}})
    claim_text = [{"match": {"claims.text": {"query": q.text, "operator": "or"}}}] if q.text else []
    if claim_filters:
        must.append({"nested": {"path": "claims", "score_mode": "max", "inner_hits": inner_hits,
                                "query": {"bool": {"filter": claim_filters, "should": claim_text}}}})
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters, "should": should}},
        "size": q.size, "from": q.offset, "track_total_hits": True,
        "_source": {"excludes": ["text", "entities", "claims"]},
        "sort": _sort(q, "articles"),
    }
    if q.text:
        # the English subfield marks exact words and their stems alike ("election" for "elections"): one pass
        # over the body instead of two
        sub = ".english" if english else ""
        hl_fields: dict[str, dict[str, Any]] = {f"title{sub}": {"number_of_fragments": 0},
                                                f"text{sub}": {"fragment_size": 160, "number_of_fragments": 3},
                                                "summary": {"number_of_fragments": 0}}
        body["highlight"] = _highlight(hl_fields, q)
    if q.facets:
        n = q.facet_size
        body["aggs"] = {
            "persons": {"terms": {"field": "persons", "size": n}},
            "organizations": {"terms": {"field": "organizations", "size": n}},
            "places": {"terms": {"field": "places", "size": n}},
            "speakers": {"terms": {"field": "speakers", "size": n}},
            "sites": {"terms": {"field": "site", "size": n}},
            "published": _date_facet(q),
        }
    return _one_per_group(body, q, STORY_FIELD)


def matching_claims_request(q: SearchQuery, article_ids: list[str], per_article: int = 3,
                            english: bool = False) -> dict[str, Any]:
    """Claims of the given articles that match any concept of the text (entities by id or any of their names):
    a cheap second query on the claims index (a scored nested clause with inner hits over every article costs
    several times more)."""
    cs = [] if has_syntax(q.text) else concepts(q.text)
    if cs:
        match: dict[str, Any] = {"bool": {"should": [concept_clause(c, "claims", english) for c in cs],
                                          "minimum_should_match": 1}}
    else:
        match = {"match": {"text": {"query": q.text, "operator": "or"}}}
    return {
        "query": {"bool": {"filter": [{"terms": {"article_id": article_ids}}], "must": [match]}},
        "size": per_article * len(article_ids),
        "_source": ["article_id", "claim_id", "text", "kind", "speaker", "certainty", "checkworthiness",
                    "about_names"],
        "highlight": _highlight({"text.english" if english else "text": {"number_of_fragments": 0}}, q),
    }


def claim_request(q: SearchQuery, english: bool) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if q.text:
        must.append(text_query(q.text, "claims", english))
    for name in q.entities:
        filters.append(_name_filter(name, "about", [{"term": {"about_names": name}}]))
    for name in q.speakers:
        filters.append(_name_filter(name, "speaker.entity_id", [{"match_phrase": {"speaker.name": name}}]))
    if q.certainty:
        filters.append({"term": {"certainty.level": q.certainty}})
    for clause in (_sites(q), _date_range(q)):
        if clause:
            filters.append(clause)
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "size": q.size, "from": q.offset, "track_total_hits": True, "sort": _sort(q, "claims"),
    }
    if q.sort == "speaker":
        body["query"] = _named_speakers_first(body["query"])
    if q.text:
        body["highlight"] = _highlight({"text.english" if english else "text": {"number_of_fragments": 0}}, q)
    if q.facets:
        n = q.facet_size
        body["aggs"] = {
            "speakers": {"terms": {"field": "speaker.name.keyword", "size": n}},
            "certainty": {"terms": {"field": "certainty.level", "size": 3}},
            "about": {"terms": {"field": "about_names", "size": n}},
            "sites": {"terms": {"field": "site", "size": n}},
            "published": _date_facet(q),
        }
    return _one_per_group(body, q, CLAIM_KEY_FIELD, copies=True)


# Copies of one story share `story.id`; the same statement by the same speaker in those copies shares
# `story.claim_key` (pipeline.index.documents). Hits are collapsed on them and facets count them once.
STORY_FIELD = "story.id"
CLAIM_KEY_FIELD = "story.claim_key"
GROUPS_AGG = "groups"  # how many stories (statements) matched
UNGROUPED_AGG = "ungrouped"  # documents indexed before stories existed (no story.id): not collapsible
COPIES = "copies"
COPIES_SHOWN = 10


def _one_per_group(body: dict[str, Any], q: SearchQuery, field: str, copies: bool = False) -> dict[str, Any]:
    """Collapse the hits on `field` and count each group once in the facets, unless every copy is asked for."""
    if q.all_copies:
        return body
    collapse: dict[str, Any] = {"field": field}
    if copies:
        collapse["inner_hits"] = {"name": COPIES, "size": COPIES_SHOWN, "_source": ["url", "site", "domain"],
                                  "sort": [{"published_at": {"order": "asc", "missing": "_last"}}]}
    body["collapse"] = collapse
    aggs = body.setdefault("aggs", {})
    for agg in aggs.values():
        kind = next(iter(agg))
        agg["aggs"] = {GROUPS_AGG: {"cardinality": {"field": field}}}
        if kind == "terms":
            agg[kind]["order"] = {GROUPS_AGG: "desc"}
    aggs[GROUPS_AGG] = {"cardinality": {"field": field}}
    aggs[UNGROUPED_AGG] = {"missing": {"field": STORY_FIELD}}
    return body
