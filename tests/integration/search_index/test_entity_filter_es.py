"""`--entity` and `--speaker` against the real node: every name the alias table gives one entity id selects
the same articles and claims (issue 12: "U.S." and "United States" gave 60 and 57 articles), including
articles that mention the entity under only one of its surface forms; a name the table does not know still
matches by name."""

from __future__ import annotations

import pytest

from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.search import SearchQuery, search

pytestmark = pytest.mark.integration

US = "gpe:united-states"
JS = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON", aliases=("Stoltenberg",))
COOK = EntitySpec("person:tim-cook", "Tim Cook", "PERSON", aliases=("Cook",))
# the tagger's mistakes a name match would pick up: "U.S." typed as a person (so not resolved to the
# country), a company whose name contains the country's, another Stoltenberg left unlinked
US_AS_PERSON = EntitySpec("person:u-s", "U.S.", "PERSON")
US_STEEL = EntitySpec("org:united-states-steel", "United States Steel", "ORG")
OTHER_STOLTENBERG = EntitySpec("person:stoltenberg", "Stoltenberg", "PERSON")

ARTICLES = {
    # url: (text, entities, claims)
    "https://a.example/full-name": (
        'The United States will send more air defence systems.\n\n"We will stand by our allies," '
        "Jens Stoltenberg said.",
        [EntitySpec(US, "United States", "GPE"), JS],
        [ClaimSpec("We will stand by our allies", speaker=JS, about=(US,))]),
    "https://b.example/acronym": (
        'U.S. officials confirmed the shipment.\n\n"The shipment left on Monday," Stoltenberg told reporters.',
        [EntitySpec(US, "United States", "GPE", aliases=("U.S.",)), JS],
        [ClaimSpec("The shipment left on Monday", speaker=JS, about=(US,))]),
    "https://c.example/america": (
        'America is the largest market for the phones.\n\n"Demand is strong," Tim Cook said.',
        [EntitySpec(US, "United States", "GPE", aliases=("America",)), COOK],
        [ClaimSpec("Demand is strong", speaker=COOK, about=(US,))]),
    "https://d.example/mistyped": (
        'U.S. said the talks would go on.\n\n"The talks go on," Stoltenberg said.',
        [US_AS_PERSON, OTHER_STOLTENBERG],
        [ClaimSpec("The talks go on", speaker=OTHER_STOLTENBERG, about=("person:u-s",))]),
    "https://e.example/steel": (
        'United States Steel raised its prices.\n\n"Prices follow costs," Cook said.',
        [US_STEEL, COOK],
        [ClaimSpec("Prices follow costs", speaker=COOK, about=("org:united-states-steel",))]),
}
ABOUT_US = {"https://a.example/full-name", "https://b.example/acronym", "https://c.example/america"}


@pytest.fixture(scope="module")
def settings(module_settings):
    return module_settings


@pytest.fixture(scope="module")
def indexed(es_client, settings):
    from pipeline.index.setup import ensure_indices
    from pipeline.index.writer import IndexWriter

    ensure_indices(es_client, settings)
    docs = [tagged_article(url, text, title=url.rsplit("/", 1)[1], entities=entities, claims=claims)
            for url, (text, entities, claims) in ARTICLES.items()]
    assert IndexWriter(es_client, settings).write(docs).ok
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")


def _articles(es_client, settings, **filters) -> set[str]:
    resp = search(es_client, SearchQuery(size=50, **filters), settings)
    assert resp.total == len(resp.articles)
    return {a.url for a in resp.articles}


def _claims(es_client, settings, **filters) -> set[tuple[str, str]]:
    resp = search(es_client, SearchQuery(claims=True, size=50, **filters), settings)
    assert resp.total == len(resp.claims)
    return {(c.url, c.text) for c in resp.claims}


@pytest.mark.parametrize("name", ["U.S.", "United States", "America", "USA", "the United States"])
def test_every_name_of_an_entity_selects_the_same_articles_and_claims(es_client, settings, indexed, name):
    assert _articles(es_client, settings, entities=[name]) == ABOUT_US
    assert _claims(es_client, settings, entities=[name]) == {
        ("https://a.example/full-name", "We will stand by our allies"),
        ("https://b.example/acronym", "The shipment left on Monday"),
        ("https://c.example/america", "Demand is strong")}


@pytest.mark.parametrize("name", ["Stoltenberg", "Jens Stoltenberg"])
def test_every_name_of_a_speaker_selects_the_same_claims(es_client, settings, indexed, name):
    assert _articles(es_client, settings, speakers=[name]) == {"https://a.example/full-name",
                                                               "https://b.example/acronym"}
    assert _claims(es_client, settings, speakers=[name]) == {
        ("https://a.example/full-name", "We will stand by our allies"),
        ("https://b.example/acronym", "The shipment left on Monday")}


@pytest.mark.parametrize("name", ["Cook", "Tim Cook"])
def test_names_the_alias_table_does_not_know_still_match_by_name(es_client, settings, indexed, name):
    assert _articles(es_client, settings, speakers=[name]) == {"https://c.example/america",
                                                               "https://e.example/steel"}
    assert _claims(es_client, settings, speakers=[name]) == {("https://c.example/america", "Demand is strong"),
                                                             ("https://e.example/steel", "Prices follow costs")}
    assert _articles(es_client, settings, entities=["United States Steel"]) == {"https://e.example/steel"}
