"""The `sort` option of SearchQuery: the sort clauses of article and claim requests, the default order kept,
unknown or claim-only keys refused with a message, and the collapse on stories left in place."""

from __future__ import annotations

import pytest

from pipeline.cli.search import SORT_KEYS
from pipeline.search.query import (
    SORTS,
    SearchError,
    SearchQuery,
    article_request,
    claim_request,
    sort_problem,
)

NEWEST = {"published_at": {"order": "desc", "missing": "_last"}}
OLDEST = {"published_at": {"order": "asc", "missing": "_last"}}
WORTH = {"checkworthiness": {"order": "desc", "missing": "_last"}}
SPEAKER = {"speaker.name.keyword": {"order": "asc", "missing": "_last"}}


def _articles(**kw) -> dict:
    return article_request(SearchQuery(**kw), english=False)


def _claims(**kw) -> dict:
    return claim_request(SearchQuery(claims=True, **kw), english=False)


def test_no_sort_keeps_the_order_from_before():
    assert SearchQuery().sort == "relevance"
    assert _articles(text="grain")["sort"] == ["_score", NEWEST]
    assert _articles(entities=["X"])["sort"] == [NEWEST, "_score"]
    assert _claims(text="grain")["sort"] == ["_score", {"checkworthiness": "desc"}]
    assert _claims(speakers=["X"])["sort"] == [NEWEST, {"checkworthiness": "desc"}]
    for build, kw in ((_articles, {"text": "grain"}), (_claims, {"text": "grain"}), (_claims, {})):
        assert build(**kw) == build(sort="relevance", **kw) == build(sort=" Relevance ", **kw) == build(sort="", **kw)


@pytest.mark.parametrize(("sort", "expected"), [
    ("newest", [NEWEST, "_score"]),
    ("oldest", [OLDEST, "_score"]),
])
def test_article_sorts(sort, expected):
    for text in ("", "grain"):
        body = _articles(text=text, sort=sort)
        assert body["sort"] == expected
        assert body["collapse"] == {"field": "story.id"}


@pytest.mark.parametrize(("sort", "expected"), [
    ("newest", [NEWEST, "_score", WORTH]),
    ("oldest", [OLDEST, "_score", WORTH]),
    ("checkworthiness", [WORTH, "_score", NEWEST]),
    ("speaker", ["_score", SPEAKER, NEWEST, WORTH]),
])
def test_claim_sorts_collapse_on_the_statement(sort, expected):
    body = _claims(text="grain", sort=sort)
    assert body["sort"] == expected
    assert body["collapse"]["field"] == "story.claim_key"
    assert body["collapse"]["inner_hits"]["sort"] == [{"published_at": {"order": "asc", "missing": "_last"}}]
    assert "collapse" not in _claims(text="grain", sort=sort, all_copies=True)


def test_speaker_sort_scores_named_speakers_above_the_rest():
    plain, by_speaker = _claims(text="grain", certainty="low"), _claims(text="grain", certainty="low", sort="speaker")
    assert by_speaker["query"]["bool"]["filter"] == [plain["query"]]  # the same hits; the words no longer rank
    (named,) = by_speaker["query"]["bool"]["should"]
    assert named["constant_score"]["filter"] == {"bool": {
        "filter": [{"exists": {"field": "speaker.name.keyword"}}],
        "must_not": [{"term": {"speaker.name.keyword": ""}}]}}  # an unresolved speaker's name is ""
    assert by_speaker["highlight"] == plain["highlight"]
    assert _claims(text="grain", certainty="low", sort="newest")["query"] == plain["query"]


def test_unknown_and_claim_only_sorts_are_refused_with_the_choices():
    assert sort_problem("newest") is None and sort_problem("speaker", claims=True) is None
    assert sort_problem("speaker") == ("sort 'speaker' orders claims only (search claims to use it); "
                                       "articles sort by relevance, newest, oldest")
    assert sort_problem("date", claims=True) == ("unknown sort 'date'; claims sort by relevance, newest, oldest, "
                                                 "checkworthiness, speaker")
    with pytest.raises(SearchError, match="unknown sort 'popular'; articles sort by relevance, newest, oldest"):
        _articles(text="grain", sort="popular")
    with pytest.raises(SearchError, match="orders claims only"):
        _articles(sort="checkworthiness")
    with pytest.raises(SearchError, match="unknown sort 'date'"):
        _claims(sort="date")


def test_the_cli_offers_every_sort_of_the_library():
    assert SORT_KEYS == SORTS["claims"] and set(SORTS["articles"]) <= set(SORT_KEYS)
