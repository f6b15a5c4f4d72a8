"""English analysis and entity-aware search against the real node.

The same assertions hold on the embedded node (its English analysis plugin) and on a full distribution
(NEWSWATCH_ES_URL): the built-in `english` analyzer gives the tokens of Elastic's documented rebuild from
its filters, stems find other word forms, aliases find other names, and title/entity/claim matches rank
above body matches.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from pipeline.cli import main
from pipeline.index.features import detect_features
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.search import SearchQuery, search

pytestmark = pytest.mark.integration

TEXTS = [
    "North Korea's leaders held elections; the sanctioned regime's officials were running late.",
    "The Running of the Bulls: dogs, cats and geese aren't welcome at the U.S. Embassy’s party!",
    "Stakeholders' relationships generalized quickly — 3,000 agreements, COVID-19 vaccinations, e-mail.",
    "An example of examples: the happiness of organizations is hopefully measurable, isn't it?",
    "Élysée officials said: « Nous verrons » — and NATO's 2nd summit ended at 10:30 p.m.",
]

# Elastic's documentation of the `english` analyzer, rebuilt from its parts ("Language analyzers", english)
REBUILT = {
    "filter": {
        "english_stop": {"type": "stop", "stopwords": "_english_"},
        "english_keywords": {"type": "keyword_marker", "keywords": ["example"]},
        "english_stemmer": {"type": "stemmer", "language": "english"},
        "english_possessive_stemmer": {"type": "stemmer", "language": "possessive_english"},
    },
    "analyzer": {
        "rebuilt_english": {"tokenizer": "standard", "filter": [
            "english_possessive_stemmer", "lowercase", "english_stop", "english_keywords", "english_stemmer"]},
        "rebuilt_english_no_keywords": {"tokenizer": "standard", "filter": [
            "english_possessive_stemmer", "lowercase", "english_stop", "english_stemmer"]},
        "english_with_exclusion": {"type": "english", "stem_exclusion": ["example"]},
    },
}


@pytest.fixture(scope="module")
def settings(module_settings):
    return module_settings


@pytest.fixture(scope="module")
def english(es_client):
    has_it = detect_features(es_client, refresh=True).english_analyzer
    if not os.environ.get("NEWSWATCH_ES_URL"):
        assert has_it, "the embedded node must have English analysis (es-dev-node: newswatch.esnode.english)"
    if not has_it:
        pytest.skip("this cluster has no english analyzer")
    return has_it


def _tokens(es_client, index: str | None = None, **request) -> list[tuple[str, int, int, int]]:
    resp = es_client.indices.analyze(index=index, **request) if index else es_client.indices.analyze(**request)
    return [(t["token"], t["position"], t["start_offset"], t["end_offset"]) for t in resp["tokens"]]


def test_english_analyzer_equals_its_documented_rebuild(es_client, settings, english):
    index = f"{settings.index_prefix}-analysis"
    es_client.indices.create(index=index, settings={"number_of_replicas": 0, "analysis": REBUILT})
    try:
        for text in TEXTS:
            builtin = _tokens(es_client, analyzer="english", text=text)
            assert builtin, text
            assert _tokens(es_client, index, analyzer="rebuilt_english_no_keywords", text=text) == builtin
            # with the keyword marker, "example" is left unstemmed, as the english analyzer's stem_exclusion does
            configured = _tokens(es_client, index, analyzer="english_with_exclusion", text=text)
            assert _tokens(es_client, index, analyzer="rebuilt_english", text=text) == configured
        assert [t[0] for t in _tokens(es_client, analyzer="english", text=TEXTS[0])] == [
            "north", "korea", "leader", "held", "elect", "sanction", "regim", "offici", "were", "run", "late"]
        assert "example" in [t[0] for t in _tokens(es_client, index, analyzer="rebuilt_english", text=TEXTS[3])]
    finally:
        es_client.indices.delete(index=index)


FILLER = "Officials met on Tuesday to review the annual budget for the region, and left before noon."
BOOST_TEXT = f'{FILLER}\n\n"A zeppelin was mentioned," an adviser said.'
NK = EntitySpec("gpe:north-korea", "North Korea", "GPE")
JD = EntitySpec("person:jane-doe", "Jane Doe", "PERSON")
DAY = datetime(2025, 6, 1, tzinfo=UTC)
ARTICLES = {
    "election": tagged_article("https://t.example/election", "The election was held on Sunday under heavy rain.",
                               title="Voters head to the polls", published_at=DAY),
    "sanctions": tagged_article("https://t.example/sanctions", "New sanctions hit the steel trade this week.",
                                title="Steel trade hit", published_at=DAY),
    # "North Korea" only in the text: no entity was tagged, so only alias expansion can find it for "DPRK"
    "korea": tagged_article("https://t.example/korea",
                            '"North Korea fired two missiles into the sea," Jane Doe said on Monday.',
                            title="Missiles fired", published_at=DAY, entities=[JD],
                            claims=[ClaimSpec("North Korea fired two missiles into the sea", speaker=JD)]),
    "body": tagged_article("https://t.example/body", BOOST_TEXT, title="Budget review", published_at=DAY),
    "title": tagged_article("https://t.example/title", BOOST_TEXT, title="Zeppelin budget review", published_at=DAY),
    "entity": tagged_article("https://t.example/entity", BOOST_TEXT, title="Budget review", published_at=DAY,
                             entities=[EntitySpec("org:zeppelin-works", "Zeppelin Works", "ORG")]),
    "claim": tagged_article("https://t.example/claim", BOOST_TEXT, title="Budget review", published_at=DAY,
                            claims=[ClaimSpec("A zeppelin was mentioned")]),
}
URLS = {a.article.url: name for name, a in ARTICLES.items()}


@pytest.fixture(scope="module")
def indexed(es_client, settings, english):
    from pipeline.index.setup import ensure_indices
    from pipeline.index.writer import IndexWriter

    ensure_indices(es_client, settings)
    assert IndexWriter(es_client, settings).write(list(ARTICLES.values())).ok
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")


def _found(es_client, settings, text: str, **kw) -> list[str]:
    return [URLS[a.url] for a in search(es_client, SearchQuery(text=text, facets=False, **kw), settings).articles]


def test_other_word_forms_are_found(es_client, settings, indexed):
    assert _found(es_client, settings, "elections") == ["election"]
    assert _found(es_client, settings, "sanctioned") == ["sanctions"]
    assert _found(es_client, settings, "sanctioned steel") == ["sanctions"]
    hit = search(es_client, SearchQuery(text="elections"), settings).articles[0]
    assert any("<em>election</em>" in f for f in hit.highlights["text"])


def test_elections_through_the_cli(es_url, settings, indexed, monkeypatch, capsys):
    monkeypatch.setenv("NEWSWATCH_ES_URL", es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    assert main(["search", "elections", "--no-facets"]) == 0
    out = capsys.readouterr().out
    assert "1 articles matched" in out and "Voters head to the polls" in out and "[election]" in out
    assert main(["search", "sanctioned"]) == 0
    assert "Steel trade hit" in capsys.readouterr().out


def test_an_alias_finds_the_other_name_in_the_text(es_client, settings, indexed):
    resp = search(es_client, SearchQuery(text="DPRK missiles"), settings)
    assert [URLS[a.url] for a in resp.articles] == ["korea"]
    assert resp.resolved == {"DPRK": ["gpe:north-korea"]}
    assert any("<em>North</em> <em>Korea</em>" in f for f in resp.articles[0].highlights["text"])
    claims = search(es_client, SearchQuery(text="DPRK", claims=True), settings)
    assert [c.text for c in claims.claims] == ["North Korea fired two missiles into the sea"]


def test_title_entity_and_claim_matches_rank_above_the_body(es_client, settings, indexed):
    resp = search(es_client, SearchQuery(text="zeppelin", facets=False), settings)
    scores = {URLS[a.url]: a.score for a in resp.articles}
    assert set(scores) == {"body", "title", "entity", "claim"}
    assert URLS[resp.articles[0].url] == "title"
    for better in ("title", "entity", "claim"):
        assert scores[better] > scores["body"], (better, scores)
