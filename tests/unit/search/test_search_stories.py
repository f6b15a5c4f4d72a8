"""Search groups copies: one hit per story (articles) or per statement of a story (claims)."""

from __future__ import annotations

from pipeline.search.query import SearchQuery, article_request, claim_request


def test_articles_collapse_on_the_story_and_facets_count_stories():
    body = article_request(SearchQuery(text="grain"), english=False)
    assert body["collapse"] == {"field": "story.id"}
    assert body["aggs"]["persons"]["aggs"] == {"groups": {"cardinality": {"field": "story.id"}}}
    assert body["aggs"]["persons"]["terms"]["order"] == {"groups": "desc"}
    assert body["aggs"]["ungrouped"] == {"missing": {"field": "story.id"}}


def test_claims_collapse_on_the_statement_with_its_copies():
    body = claim_request(SearchQuery(speakers=["X"], claims=True), english=False)
    assert body["collapse"]["field"] == "story.claim_key"
    assert body["collapse"]["inner_hits"]["name"] == "copies"
    assert body["aggs"]["groups"] == {"cardinality": {"field": "story.claim_key"}}


def test_all_copies_lists_every_document():
    for body in (article_request(SearchQuery(text="grain", all_copies=True), english=False),
                 claim_request(SearchQuery(claims=True, all_copies=True), english=False)):
        assert "collapse" not in body and "groups" not in body.get("aggs", {})
