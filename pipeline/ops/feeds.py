"""Feed states for the Feed health page (filtered, sorted, paged, with counts per health class) and one
feed's detail (its state, recent failure events and recent articles).

Health classes, from `FeedState`:
    disabled   stopped after too many failures, or by hand (`feeds_sync action=pause`)
    failing    the last poll failed (consecutive_failures > 0), not disabled yet
    new        never polled
    ok         the rest: the last poll worked (status ok or not_modified)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pipeline.feeds.state import FeedState
from pipeline.ops.run import hits, total
from pipeline.records import Event

# page sort key -> FeedState field (all keyword, date or numeric: sortable without fielddata)
SORT_FIELDS = {
    "feed": "feed_id",
    "status": "status",
    "last_poll": "last_polled_at",
    "last_success": "last_success_at",
    "failures": "consecutive_failures",
    "next_poll": "next_poll_at",
    "new_articles": "total_new_entries",
}
HEALTH_CLASSES = ("all", "failing", "disabled", "ok", "new")
Health = Literal["failing", "disabled", "ok", "new"]
_DISABLED = {"term": {"disabled": True}}
_FAILING = {"range": {"consecutive_failures": {"gt": 0}}}
_NEW = {"term": {"status": "new"}}
# the classes partition the feeds, in the order of `health_of`
HEALTH_FILTERS: dict[str, dict[str, Any]] = {
    "failing": {"bool": {"filter": [_FAILING], "must_not": [_DISABLED]}},
    "disabled": _DISABLED,
    "ok": {"bool": {"must_not": [_DISABLED, _FAILING, _NEW]}},
    "new": {"bool": {"filter": [_NEW], "must_not": [_DISABLED, _FAILING]}},
}
# Everything the pages show. Not the poller's dedup memory (up to 2,000 hashes per feed) nor its
# validators: an include list lets Elasticsearch skip them unparsed (half the time of an exclude list).
_HIDDEN = {"recent_hashes", "etag", "last_modified", "body_hash"}
_SOURCE = {"includes": [name for name in FeedState.model_fields if name not in _HIDDEN]}
_LIST_SOURCE = {"includes": [name for name in _SOURCE["includes"] if name != "recent_polls"]}  # detail page only


def health_of(state: FeedState) -> Health:
    if state.disabled:
        return "disabled"
    if state.consecutive_failures > 0:
        return "failing"
    if state.status == "new":
        return "new"
    return "ok"


@dataclass(frozen=True)
class FeedQuery:
    sort: str = "feed"
    descending: bool = False
    page: int = 1
    per_page: int = 50
    show: str = "all"
    text: str = ""

    @classmethod
    def parse(cls, sort: str = "feed", order: str = "asc", page: int = 1, per_page: int = 50, show: str = "all",
              text: str = "") -> FeedQuery:
        """From query parameters; an unknown value falls back to the default (a link people edit by hand)."""
        return cls(sort=sort if sort in SORT_FIELDS else "feed", descending=order == "desc",
                   page=max(1, page), per_page=min(max(1, per_page), 200),
                   show=show if show in HEALTH_CLASSES else "all", text=text.strip()[:200])

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _text_filter(text: str) -> dict[str, Any]:
    pattern = f"*{text.lower()}*"
    return {"bool": {"should": [{"wildcard": {"feed_id": {"value": pattern, "case_insensitive": True}}},
                                {"wildcard": {"url": {"value": pattern, "case_insensitive": True}}}],
                     "minimum_should_match": 1}}


def feed_list_request(q: FeedQuery) -> dict[str, Any]:
    """The page of feeds; the counts per health class ignore `show` (they label the filter links)."""
    order = "desc" if q.descending else "asc"
    # missing dates and counts sort after the present ones, whichever the direction
    sort = [{SORT_FIELDS[q.sort]: {"order": order, "missing": "_last"}}]
    if q.sort != "feed":
        sort.append({"feed_id": {"order": "asc"}})
    body: dict[str, Any] = {
        "query": _text_filter(q.text) if q.text else {"match_all": {}},
        "sort": sort, "from": q.offset, "size": q.per_page, "_source": _LIST_SOURCE, "track_total_hits": True,
        "aggs": {"health": {"filters": {"filters": HEALTH_FILTERS}}, "all": {"filter": {"match_all": {}}}},
    }
    if q.show != "all":
        body["post_filter"] = HEALTH_FILTERS[q.show]
    return body


@dataclass(frozen=True)
class FeedList:
    query: FeedQuery
    states: list[FeedState]
    total: int  # feeds matching the filter and the text
    counts: dict[str, int]  # health class -> feeds matching the text; "all" included

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def parse_feed_list(q: FeedQuery, resp: dict[str, Any]) -> FeedList:
    buckets = resp.get("aggregations", {}).get("health", {}).get("buckets", {})
    counts = {name: int(buckets.get(name, {}).get("doc_count", 0)) for name in HEALTH_FILTERS}
    # hits.total counts after the post_filter; aggregations see every feed matching the text
    counts["all"] = int(resp.get("aggregations", {}).get("all", {}).get("doc_count", 0))
    states = [FeedState.model_validate({"feed_id": h["_id"], **h["_source"]}) for h in hits(resp)]
    return FeedList(query=q, states=states, total=total(resp), counts=counts)


@dataclass(frozen=True)
class ArticleRow:
    article_id: str
    url: str | None
    title: str | None
    site: str | None
    published_at: datetime | None
    fetched_at: datetime | None
    claim_count: int = 0


@dataclass(frozen=True)
class FeedDetail:
    feed_id: str
    state: FeedState | None
    failed_polls: list[Event] = field(default_factory=list)  # stage "feeds": the poll itself failed
    failed_polls_total: int = 0
    events: list[Event] = field(default_factory=list)  # its articles that could not be fetched or extracted
    events_total: int = 0
    articles: list[ArticleRow] = field(default_factory=list)
    articles_total: int = 0


def feed_state_request(feed_id: str) -> dict[str, Any]:
    return {"query": {"ids": {"values": [feed_id]}}, "size": 1, "_source": _SOURCE}


POLL_STAGE = "feeds"


def feed_events_request(feed_id: str, size: int = 50, offset: int = 0, *, polls: bool = False) -> dict[str, Any]:
    """The feed's failed polls (`polls=True`), or the failures of its articles, newest first."""
    stage = {"term": {"stage": POLL_STAGE}}
    query: dict[str, Any] = {"filter": [{"term": {"feed_id": feed_id}}]}
    if polls:
        query["filter"].append(stage)
    else:
        query["must_not"] = [stage]
    return {"query": {"bool": query}, "size": size, "from": offset, "sort": [{"at": {"order": "desc"}}],
            "track_total_hits": True}


def feed_articles_request(feed_id: str, size: int = 20) -> dict[str, Any]:
    return {"query": {"bool": {"filter": [{"term": {"feed_ids": feed_id}}]}}, "size": size,
            "sort": [{"fetched_at": {"order": "desc", "missing": "_last"}}], "track_total_hits": True,
            "_source": ["url", "title", "site", "published_at", "fetched_at", "claim_count"]}


def parse_feed_detail(feed_id: str, state: dict[str, Any], polls: dict[str, Any], events: dict[str, Any],
                      articles: dict[str, Any]) -> FeedDetail:
    found = hits(state)
    return FeedDetail(
        feed_id=feed_id,
        state=FeedState.model_validate({"feed_id": feed_id, **found[0]["_source"]}) if found else None,
        failed_polls=[Event.model_validate(h["_source"]) for h in hits(polls)], failed_polls_total=total(polls),
        events=[Event.model_validate(h["_source"]) for h in hits(events)], events_total=total(events),
        articles=[ArticleRow(article_id=h["_id"], url=h["_source"].get("url"), title=h["_source"].get("title"),
                             site=h["_source"].get("site"), published_at=_date(h["_source"].get("published_at")),
                             fetched_at=_date(h["_source"].get("fetched_at")),
                             claim_count=int(h["_source"].get("claim_count") or 0)) for h in hits(articles)],
        articles_total=total(articles))


def _date(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
