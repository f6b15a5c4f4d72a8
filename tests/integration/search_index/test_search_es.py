"""Search against the real node: alias-resolved entities, speakers, certainty, facets, highlights, bad queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.cli import main
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.search import SearchError, SearchQuery, search

pytestmark = pytest.mark.integration

NK = EntitySpec("gpe:north-korea", "North Korea", "GPE")
RU = EntitySpec("gpe:russia", "Russia", "GPE")
US = EntitySpec("gpe:united-states", "United States", "GPE")
JS = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON")
JD = EntitySpec("person:jane-doe", "Jane Doe", "PERSON")

NK_TEXT = ('North Korea may supply more artillery shells to Russia, officials warned.\n\n'
           '"There is no doubt that North Korea is arming Russia," Jens Stoltenberg said.')
US_TEXT = ('The United States announced new sanctions on Russia over artillery supplies.\n\n'
           '"The sanctions could possibly slow deliveries," Jane Doe said.')
FARM_TEXT = 'Farmers in the valley reported a record harvest of apples this autumn, Jane Doe said.'


@pytest.fixture(scope="module")
def settings(module_settings):
    return module_settings


@pytest.fixture(scope="module")
def indexed(es_client, settings):
    from pipeline.index.setup import ensure_indices
    from pipeline.index.writer import IndexWriter

    ensure_indices(es_client, settings)
    writer = IndexWriter(es_client, settings)
    docs = [
        tagged_article("https://news.example/nk", NK_TEXT, title="Shells for Russia", site="news.example",
                       entities=[NK, RU, JS], published_at=datetime(2025, 3, 2, tzinfo=UTC), claims=[
                           ClaimSpec("There is no doubt that North Korea is arming Russia", speaker=JS,
                                     certainty="high", about=("gpe:north-korea", "gpe:russia")),
                           ClaimSpec("North Korea may supply more artillery shells to Russia", certainty="low",
                                     kind="assertion", about=("gpe:north-korea",))]),
        tagged_article("https://wire.example/us", US_TEXT, title="New sanctions", site="wire.example",
                       entities=[US, RU, JD], published_at=datetime(2025, 3, 20, tzinfo=UTC), claims=[
                           ClaimSpec("The sanctions could possibly slow deliveries", speaker=JD, certainty="low",
                                     about=("gpe:russia",))]),
        tagged_article("https://wire.example/farm", FARM_TEXT, title="Apple harvest", site="wire.example",
                       entities=[JD], published_at=datetime(2025, 5, 1, tzinfo=UTC)),
    ]
    assert writer.write(docs).ok
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")
    return docs


def test_entity_filter_resolves_aliases(es_client, settings, indexed):
    # "DPRK" appears nowhere in the text; the alias table maps it to the id the tagger gave "North Korea"
    resp = search(es_client, SearchQuery(entities=["DPRK"]), settings)
    assert [a.url for a in resp.articles] == ["https://news.example/nk"]
    assert resp.resolved["DPRK"] == ["gpe:north-korea"]
    assert search(es_client, SearchQuery(entities=["U.S."]), settings).articles[0].url == "https://wire.example/us"
    assert search(es_client, SearchQuery(entities=["Russia"]), settings).total == 2


def test_text_search_highlights_and_matching_claims(es_client, settings, indexed):
    resp = search(es_client, SearchQuery(text="artillery"), settings)
    assert resp.total == 2
    nk = next(a for a in resp.articles if a.url.endswith("/nk"))
    assert any("<em>artillery</em>" in f for f in nk.highlights["text"])
    assert [c.text for c in nk.claims] == ["North Korea may supply more artillery shells to Russia"]
    assert "<em>artillery</em>" in (nk.claims[0].highlight or "")


def test_speaker_and_certainty_select_claims(es_client, settings, indexed):
    resp = search(es_client, SearchQuery(speakers=["Stoltenberg"], certainty="high"), settings)
    assert [a.url for a in resp.articles] == ["https://news.example/nk"]
    assert [(c.speaker, c.certainty) for c in resp.articles[0].claims] == [("Jens Stoltenberg", "high")]
    # a low-certainty claim by Stoltenberg does not exist: speaker and certainty apply to the same claim
    assert search(es_client, SearchQuery(speakers=["Jens Stoltenberg"], certainty="low"), settings).total == 0
    claims = search(es_client, SearchQuery(claims=True, certainty="low", entities=["DPRK"]), settings)
    assert [c.text for c in claims.claims] == ["North Korea may supply more artillery shells to Russia"]
    assert claims.claims[0].title == "Shells for Russia" and claims.claims[0].site == "news.example"


def test_facets_sites_and_dates(es_client, settings, indexed):
    resp = search(es_client, SearchQuery(), settings)
    assert resp.total == 3
    facets = {name: {b.key: b.count for b in buckets} for name, buckets in resp.facets.items()}
    assert facets["sites"] == {"wire.example": 2, "news.example": 1}
    assert facets["places"]["Russia"] == 2
    assert facets["persons"] == {"Jane Doe": 2, "Jens Stoltenberg": 1}
    assert facets["speakers"] == {"Jens Stoltenberg": 1, "Jane Doe": 1}
    assert sum(facets["published"].values()) == 3
    march = search(es_client, SearchQuery(since=datetime(2025, 3, 1, tzinfo=UTC),
                                          until=datetime(2025, 3, 31, tzinfo=UTC), sites=["wire.example"]), settings)
    assert [a.url for a in march.articles] == ["https://wire.example/us"]
    claim_facets = search(es_client, SearchQuery(claims=True), settings).facets
    assert {b.key: b.count for b in claim_facets["certainty"]} == {"low": 2, "high": 1}


def test_bad_queries_get_clear_messages(es_client, settings, indexed):
    with pytest.raises(SearchError, match="unknown field.*'bogus'"):
        search(es_client, SearchQuery(text="bogus:shells"), settings)
    with pytest.raises(SearchError, match="(?i)could not run this query.*parse"):
        search(es_client, SearchQuery(text="shells AND (russia"), settings)
    # a known field works
    assert search(es_client, SearchQuery(text="site:news.example"), settings).total == 1


def test_search_cli(es_url, settings, indexed, monkeypatch, capsys):
    monkeypatch.setenv("NEWSWATCH_ES_URL", es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    assert main(["search", "artillery", "--entity", "DPRK"]) == 0
    out = capsys.readouterr().out
    assert "1 articles matched" in out and "Shells for Russia" in out and "[artillery]" in out
    assert "facets:" in out and "places: North Korea (1)" in out
    assert main(["search", "--claims", "--speaker", "Jane Doe", "--json"]) == 0
    assert '"speaker": "Jane Doe"' in capsys.readouterr().out
    assert main(["search", "shells AND (russia"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newswatch search:") and "Traceback" not in err
