"""Evaluation requests and hit parsing (pure: no cluster)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.alerts.evaluate import Window, _without_inner_hits, detail_request, item_from_hit, watch_request
from pipeline.alerts.model import HL_POST, HL_PRE, WatchSearch
from pipeline.search.query import SearchError, SearchQuery, article_request, claim_request

W = Window(since=datetime(2026, 3, 1, tzinfo=UTC), until=datetime(2026, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize("claims", [True, False])
def test_the_watch_request_is_the_search_request_within_the_window_in_index_order(claims):
    search = WatchSearch(text="North Korea", speakers=["Stoltenberg"], certainty="low", claims=claims)
    body = watch_request(search, W, english=False, size=50, search_after=["2026-03-01T10:00:00Z", "x"])
    q = SearchQuery(text="North Korea", speakers=["Stoltenberg"], certainty="low", claims=claims, size=50,
                    facets=False, highlight_tags=(HL_PRE, HL_POST))
    base = (claim_request if claims else article_request)(q, False)
    must, = body["query"]["bool"]["must"]
    # the same filters, aliases and text semantics as `newswatch search`; which documents, nothing more
    assert must == _without_inner_hits(base["query"]) and "inner_hits" not in str(must)
    assert body["query"]["bool"]["filter"] == [{"range": {"indexed_at": {
        "gte": "2026-03-01T00:00:00+00:00", "lte": "2026-03-02T00:00:00+00:00"}}}]
    assert body["sort"][0] == {"indexed_at": {"order": "asc"}}
    assert body["sort"][1] == {("claim_id" if claims else "article_id"): {"order": "asc"}}
    assert body["search_after"] == ["2026-03-01T10:00:00Z", "x"] and body["size"] == 50
    assert "aggs" not in body and "from" not in body and body["track_total_hits"] is False
    assert "highlight" not in body and body["_source"] is False
    detail = detail_request(search, ["a", "b"], english=False)
    assert detail["query"]["bool"]["must"] == [base["query"]] and detail["size"] == 2
    assert detail["query"]["bool"]["filter"] == [{"ids": {"values": ["a", "b"]}}]
    assert detail["highlight"]["pre_tags"] == [HL_PRE] and detail["_source"]


def test_a_search_with_an_unknown_field_is_an_error():
    with pytest.raises(SearchError, match="unknown field"):
        watch_request(WatchSearch(text="bogus:x", claims=True), W, english=False)


def test_claim_hits_become_items_with_highlights():
    hit = {"_id": "a1:c1", "_source": {"claim_id": "a1:c1", "article_id": "a1", "text": "North  Korea fired",
                                       "kind": "direct_quote", "speaker": {"name": "Jens Stoltenberg"},
                                       "certainty": {"level": "low"}, "title": "T", "site": "s", "url": "u",
                                       "published_at": "2026-03-01T10:00:00Z", "indexed_at": "2026-03-01T11:00:00Z"},
           "highlight": {"text.english": [f"{HL_PRE}North{HL_POST} Korea fired"]}}
    item = item_from_hit(hit, claims=True)
    assert (item.doc_id, item.speaker, item.certainty, item.text) == ("a1:c1", "Jens Stoltenberg", "low",
                                                                      "North Korea fired")
    assert item.highlighted == f"{HL_PRE}North{HL_POST} Korea fired"


def test_article_hits_take_the_matching_claim_or_the_best_passage():
    inner = {"hits": {"hits": [{"_source": {"text": "We act", "speaker": {"name": "Ann"}, "certainty": {"level": "high"}},
                                "highlight": {"claims.text": [f"We {HL_PRE}act{HL_POST}"]}}]}}
    src = {"article_id": "a1", "title": "T", "url": "u", "site": "s"}
    with_claim = item_from_hit({"_id": "a1", "_source": src, "inner_hits": {"claims": inner}}, claims=False)
    assert (with_claim.doc_kind, with_claim.speaker, with_claim.text) == ("article", "Ann", "We act")
    passage = item_from_hit({"_id": "a1", "_source": src, "highlight": {"text": [f"the {HL_PRE}x{HL_POST} y"]}},
                            claims=False)
    assert passage.text == "the x y" and passage.speaker is None
    bare = item_from_hit({"_id": "a1", "_source": {**src, "summary": "Sum"}}, claims=False)
    assert bare.text == "Sum" and bare.highlighted == "Sum"
