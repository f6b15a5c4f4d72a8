"""Free-text request bodies (no cluster): concept clauses, alias expansion, field boosts, Lucene syntax."""

from __future__ import annotations

import json
import re
from typing import Any

from pipeline.search.concepts import Concept, concepts
from pipeline.search.query import (
    SearchQuery,
    article_request,
    claim_request,
    concept_clause,
    matching_claims_request,
    word_fields,
)


def _concept_clauses(body: dict[str, Any]) -> list[dict[str, Any]]:
    text_query = body["query"]["bool"]["must"][0]
    required = text_query["bool"]["must"][0] if "must" in text_query["bool"] else text_query
    return required["bool"]["should"]


def _boosts(fields: list[str]) -> dict[str, float]:
    out = {}
    for f in fields:
        name, _, boost = f.partition("^")
        out[name] = float(boost or 1)
    return out


def test_entity_in_the_text_matches_its_id_or_any_of_its_names():
    body = article_request(SearchQuery(text="DPRK missile"), english=False)
    entity, word = _concept_clauses(body)
    options = entity["dis_max"]["queries"]
    assert {"term": {"entity_ids": {"value": "gpe:north-korea", "boost": 2.0}}} in options
    phrases = {o["multi_match"]["query"] for o in options if "multi_match" in o}
    assert {"DPRK", "North Korea", "Democratic People's Republic of Korea"} <= phrases
    assert all(o["multi_match"]["type"] == "phrase" for o in options if "multi_match" in o)
    assert word["multi_match"]["query"] == "missile"


def test_title_entities_and_claims_weigh_more_than_the_body():
    boosts = _boosts(word_fields("articles", english=True))
    assert boosts["title"] > boosts["text"] and boosts["entity_text"] > boosts["text"]
    assert boosts["claim_text"] > boosts["text"] and boosts["summary"] > boosts["text"]
    # the English stems count as much as the exact words, field by field
    assert boosts["title.english"] == boosts["title"] and boosts["text.english"] == boosts["text"]
    assert not any(f.endswith(".english") for f in word_fields("articles", english=False))
    claims = _boosts(word_fields("claims", english=True))
    assert claims["text"] > claims["title"] and claims["entity_text"] > claims["title"]
    entity = concept_clause(Concept("NATO", "org:nato", ("NATO", "North Atlantic Treaty Organization")), "articles",
                            english=True)
    phrase_fields = _boosts(entity["dis_max"]["queries"][1]["multi_match"]["fields"])
    assert phrase_fields["title"] > phrase_fields["text"] and phrase_fields["claim_text"] > phrase_fields["text"]


def test_short_queries_need_every_concept_long_ones_half():
    body = article_request(SearchQuery(text="sanctions Russia artillery shells"), english=True)
    required = body["query"]["bool"]["must"][0]["bool"]["must"][0]["bool"]
    assert len(required["should"]) == 4 and required["minimum_should_match"] == "2<-1 3<50%"
    # the words typed together are a bonus phrase in title and body, never a requirement
    bonus = body["query"]["bool"]["must"][0]["bool"]["should"][0]["multi_match"]
    assert bonus["type"] == "phrase" and bonus["query"] == "sanctions Russia artillery shells"
    single = article_request(SearchQuery(text="sanctions"), english=True)["query"]["bool"]["must"][0]
    assert single["bool"]["minimum_should_match"] == "2<-1 3<50%" and len(single["bool"]["should"]) == 1


def test_english_stems_only_when_the_cluster_has_them():
    with_english = json.dumps(article_request(SearchQuery(text="elections"), english=True))
    assert "title.english" in with_english and "claim_text.english" in with_english
    assert ".english" not in json.dumps(article_request(SearchQuery(text="elections"), english=False))


def test_lucene_syntax_keeps_query_string():
    body = article_request(SearchQuery(text='"North Korea" AND shells'), english=True)
    qs = body["query"]["bool"]["must"][0]["query_string"]
    assert qs["default_operator"] == "AND" and "text.english" in qs["fields"] and "claim_text^1.5" in qs["fields"]


def test_claims_mode_expands_entities_to_about_and_speaker_ids():
    body = claim_request(SearchQuery(text="Stoltenberg warns", claims=True), english=False)
    entity = _concept_clauses(body)[0]["dis_max"]["queries"]
    ids = {f for o in entity if "term" in o for f in o["term"]}
    assert ids == {"about", "speaker.entity_id"}
    assert "nested" not in json.dumps(body)


def test_matching_claims_use_any_concept_with_expansion():
    q = SearchQuery(text="DPRK shells")
    body = matching_claims_request(q, ["a1", "a2"], english=True)
    match = body["query"]["bool"]["must"][0]["bool"]
    assert match["minimum_should_match"] == 1 and len(match["should"]) == len(concepts(q.text))
    assert "North Korea" in json.dumps(match)
    assert body["query"]["bool"]["filter"] == [{"terms": {"article_id": ["a1", "a2"]}}]


def test_highlights_use_the_english_subfield_when_there_is_one():
    fields = article_request(SearchQuery(text="elections"), english=True)["highlight"]["fields"]
    assert set(fields) == {"title.english", "text.english", "summary"}
    fields = article_request(SearchQuery(text="elections"), english=False)["highlight"]["fields"]
    assert set(fields) == {"title", "text", "summary"}


def test_only_stop_words_and_punctuation():
    body = article_request(SearchQuery(text="... —"), english=False)
    assert body["query"]["bool"]["must"][0] == {"match_none": {}}
    assert re.search(r'"query": "the"', json.dumps(article_request(SearchQuery(text="the"), english=False)))
