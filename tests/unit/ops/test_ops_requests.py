"""pipeline.ops without a cluster: labels, the hour window and its histograms, the feed list request
(filters, sorting, paging) and the parsing of Elasticsearch answers. Against a real node:
tests/dags/test_plugin_pages_es.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.feeds.state import FeedState
from pipeline.ops.feeds import (
    HEALTH_FILTERS,
    FeedQuery,
    feed_events_request,
    feed_list_request,
    health_of,
    parse_feed_list,
)
from pipeline.ops.labels import duration, humanize, kind_label, reason_label, relative, status_label
from pipeline.ops.volume import Window, failures_request, parse_volume

NOW = datetime(2026, 1, 2, 10, 17, 30, tzinfo=UTC)


def test_labels_read_as_words():
    assert status_label("http_error") == "HTTP error" and status_label("not_modified") == "Unchanged"
    assert status_label("some_new_status") == "Some new status" == humanize("some_new_status")
    assert reason_label("fetch", "timeout") == "Download: timed out"
    assert reason_label("feeds", "http_error") == "Feed poll: HTTP error"
    assert reason_label("odd_stage", "ok") == "Odd stage: OK"
    assert kind_label("direct_quote") == "Direct quote"


@pytest.mark.parametrize(("seconds", "text"), [(0, ""), (None, ""), (45, "45 s"), (900, "15 min"),
                                                (5400, "1 h 30 min"), (90061, "1 d 1 h")])
def test_durations(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(("delta", "text"), [(timedelta(seconds=10), "just now"), (timedelta(minutes=3), "3 min ago"),
                                             (timedelta(hours=5, minutes=20), "5 h ago"),
                                             (timedelta(days=1, hours=2), "1 day ago"),
                                             (timedelta(days=3), "3 days ago"), (-timedelta(minutes=4), "in 4 min"),
                                             (-timedelta(seconds=20), "in a moment"), (timedelta(days=60), "2025-11-03")])
def test_relative_times(delta, text):
    assert relative(NOW - delta, NOW) == text


def test_the_window_is_whole_hours_ending_with_the_current_one():
    w = Window.last(48, NOW)
    assert w.start == datetime(2025, 12, 31, 11, tzinfo=UTC) and w.end == datetime(2026, 1, 2, 11, tzinfo=UTC)
    assert len(w.bucket_starts()) == 48 and w.bucket_starts()[-1] == datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert w.histogram("at")["date_histogram"]["extended_bounds"] == {"min": "2025-12-31T11:00:00Z",
                                                                      "max": "2026-01-02T10:00:00Z"}
    assert w.range("at") == {"range": {"at": {"gte": "2025-12-31T11:00:00Z", "lt": "2026-01-02T11:00:00Z"}}}
    ms = int(w.start.timestamp() * 1000)
    series = w.series({"buckets": [{"key": ms, "doc_count": 2}, {"key": ms + 47 * 3_600_000, "doc_count": 5},
                                   {"key": ms - 3_600_000, "doc_count": 9}, {"key": ms + 48 * 3_600_000, "doc_count": 9}]})
    assert series[0] == 2 and series[-1] == 5 and sum(series) == 7  # outside the window: ignored


def test_failures_by_reason_come_out_most_frequent_first():
    w = Window.last(3, NOW)
    ms = int(w.start.timestamp() * 1000)

    def hist(*counts: int) -> dict:
        return {"buckets": [{"key": ms + i * 3_600_000, "doc_count": c} for i, c in enumerate(counts)]}

    failures = {"aggregations": {"per_hour": hist(1, 0, 4), "stage": {"buckets": [
        {"key": "fetch", "status": {"buckets": [
            {"key": "timeout", "per_hour": hist(0, 0, 3), "last": {"value_as_string": "2026-01-02T10:05:00.000Z"}},
            {"key": "refused", "per_hour": hist(1, 0, 0), "last": {"value_as_string": "2026-01-02T08:10:00.000Z"}}]}},
        {"key": "extract", "status": {"buckets": [
            {"key": "too_short", "per_hour": hist(0, 0, 1), "last": {}}]}}]}}}
    volume = parse_volume(w, {"aggregations": {"per_hour": hist(5, 6, 7)}}, failures)
    assert volume.articles == (5, 6, 7) and volume.failures == (1, 0, 4) and volume.last_hours(1) == (7, 4)
    assert [(r.stage, r.status, r.total) for r in volume.reasons] == [("fetch", "timeout", 3), ("extract", "too_short", 1),
                                                                     ("fetch", "refused", 1)]
    assert volume.reasons[0].last_at == datetime(2026, 1, 2, 10, 5, tzinfo=UTC) and volume.reasons[1].last_at is None
    empty = parse_volume(w, {}, {})  # a missing index answers without aggregations
    assert empty.articles == (0, 0, 0) and empty.reasons == []
    assert failures_request(w, "wire")["query"]["bool"]["filter"][1] == {"term": {"feed_id": "wire"}}


def test_feed_queries_from_hand_edited_links_fall_back_to_defaults():
    q = FeedQuery.parse(sort="nonsense", order="sideways", page=0, per_page=10_000, show="weird", text="  x ")
    assert (q.sort, q.descending, q.page, q.per_page, q.show, q.text) == ("feed", False, 1, 200, "all", "x")
    assert FeedQuery.parse(sort="failures", order="desc", page=3, per_page=50).offset == 100


def test_the_feed_list_request_filters_after_counting_and_never_loads_the_dedup_memory():
    body = feed_list_request(FeedQuery.parse(sort="last_poll", order="desc", page=2, show="failing", text="BBC"))
    assert body["post_filter"] == HEALTH_FILTERS["failing"]  # counts per class ignore the class filter
    assert set(body["aggs"]) == {"health", "all"}
    assert body["sort"] == [{"last_polled_at": {"order": "desc", "missing": "_last"}}, {"feed_id": {"order": "asc"}}]
    assert (body["from"], body["size"]) == (50, 50)
    assert "recent_hashes" not in body["_source"]["includes"] and "consecutive_failures" in body["_source"]["includes"]
    wildcard = body["query"]["bool"]["should"][0]["wildcard"]["feed_id"]
    assert wildcard == {"value": "*bbc*", "case_insensitive": True}
    assert "post_filter" not in feed_list_request(FeedQuery())


def test_parse_feed_list_counts_and_states():
    resp = {"hits": {"total": {"value": 3}, "hits": [{"_id": "a", "_source": {"status": "ok", "url": "https://a"}}]},
            "aggregations": {"all": {"doc_count": 9}, "health": {"buckets": {"ok": {"doc_count": 5},
                                                                                "failing": {"doc_count": 3}}}}}
    listing = parse_feed_list(FeedQuery(show="failing", per_page=2), resp)
    assert listing.counts == {"failing": 3, "disabled": 0, "ok": 5, "new": 0, "all": 9}
    assert listing.total == 3 and listing.pages == 2 and listing.states[0].feed_id == "a"


def test_health_classes():
    assert health_of(FeedState(feed_id="a")) == "new"
    assert health_of(FeedState(feed_id="a", status="ok")) == "ok"
    assert health_of(FeedState(feed_id="a", status="timeout", consecutive_failures=2)) == "failing"
    assert health_of(FeedState(feed_id="a", status="parse_error", consecutive_failures=10, disabled=True)) == "disabled"


def test_feed_events_split_polls_from_articles():
    polls = feed_events_request("wire", 20, polls=True)["query"]["bool"]
    others = feed_events_request("wire", 25, 50)
    assert {"term": {"stage": "feeds"}} in polls["filter"] and "must_not" not in polls
    assert others["query"]["bool"]["must_not"] == [{"term": {"stage": "feeds"}}] and others["from"] == 50
