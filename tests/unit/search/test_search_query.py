"""Request bodies built from SearchQuery (no cluster): alias resolution, claim filters, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.search.query import SearchError, SearchQuery, article_request, claim_request, date_interval


def test_entity_filter_uses_the_alias_tables_ids():
    body = json.dumps(article_request(SearchQuery(entities=["DPRK"]), english=False))
    assert '"entity_ids": ["gpe:north-korea"]' in body
    assert '"entity_ids": ["gpe:united-states"]' in json.dumps(
        article_request(SearchQuery(entities=["U.S."]), english=False))


def test_speaker_and_certainty_filter_the_same_nested_claim():
    body = article_request(SearchQuery(speakers=["Jens Stoltenberg"], certainty="low"), english=False)
    nested = [c for c in body["query"]["bool"]["must"] if "nested" in c]
    assert len(nested) == 1 and nested[0]["nested"]["path"] == "claims"
    filters = json.dumps(nested[0]["nested"]["query"]["bool"]["filter"])
    assert "person:jens-stoltenberg" in filters and '"claims.certainty.level": "low"' in filters
    assert nested[0]["nested"]["inner_hits"]["name"] == "claims"


def test_english_subfields_only_when_available():
    q = SearchQuery(text="sanctions")
    assert "text.english" in json.dumps(article_request(q, english=True))
    assert "text.english" not in json.dumps(article_request(q, english=False))


def test_claims_mode_filters_flat_fields_and_facets():
    body = claim_request(SearchQuery(claims=True, speakers=["Jane Doe"], certainty="high", sites=["a.example"]),
                         english=False)
    text = json.dumps(body)
    assert '"certainty.level": "high"' in text and "speaker.entity_id" in text and "nested" not in text
    assert set(body["aggs"]) == {"speakers", "certainty", "about", "sites", "published", "groups", "ungrouped"}


@pytest.mark.parametrize("query, bad", [("bogus:x", "bogus"), ("title:x AND nope.field:y", "nope.field")])
def test_unknown_fields_are_rejected(query, bad):
    with pytest.raises(SearchError, match=f"unknown field.*'{bad}'"):
        article_request(SearchQuery(text=query), english=False)


def test_known_fields_quoted_colons_and_urls_pass():
    for text in ['title:sanctions', '"ratio 3:1"', 'site:news.example', 'https://example.org/x',
                 'claims.speaker.name:Doe', '_exists_:summary']:
        article_request(SearchQuery(text=text), english=False)


def test_dates():
    with pytest.raises(SearchError, match="after"):
        article_request(SearchQuery(since=datetime(2025, 2, 1, tzinfo=UTC), until=datetime(2025, 1, 1, tzinfo=UTC)),
                        english=False)
    month = SearchQuery(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 1, 31, tzinfo=UTC))
    assert date_interval(month) == "day"
    assert date_interval(SearchQuery()) == "week"
    year = SearchQuery(since=datetime(2023, 1, 1, tzinfo=UTC), until=datetime(2025, 1, 1, tzinfo=UTC))
    assert date_interval(year) == "month"
