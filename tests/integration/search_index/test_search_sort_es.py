"""Search orders against the real node: every sort key of articles and claims, with copies of a story collapsed
into one hit (the copy that the order puts first stands for the story) and with every copy listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.cli import main
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.records import Story, TaggedArticle
from pipeline.search import SearchError, SearchQuery, search
from pipeline.tagging.schema import Speaker

pytestmark = pytest.mark.integration

ZOE = EntitySpec("person:zoe-adams", "Zoe Adams", "PERSON")
BEN = EntitySpec("person:ben-carter", "Ben Carter", "PERSON")
MIA = EntitySpec("person:mia-lopez", "Mia Lopez", "PERSON")

FEES = "Harbour fees will double next spring"
TRAFFIC = "Harbour traffic fell sharply in March"
DUES = "Harbour dues are simply another tax"
OPEN = "The harbour must stay open all winter"
STRIKE = "Harbour workers plan a strike"

# url -> (published, claims as (text, speaker, checkworthiness)); the first two are copies of one story
ARTICLES = {
    "https://a.example/fees": (datetime(2025, 1, 1, tzinfo=UTC), [(FEES, ZOE, 0.9)]),
    "https://b.example/fees-copy": (datetime(2025, 1, 5, tzinfo=UTC), [(FEES, ZOE, 0.9)]),
    "https://a.example/traffic": (datetime(2025, 2, 1, tzinfo=UTC), [(TRAFFIC, BEN, 0.2), (DUES, None, 0.3)]),
    "https://c.example/open": (datetime(2025, 3, 1, tzinfo=UTC), [(OPEN, "The ministry", 0.6)]),
    "https://c.example/strike": (None, [(STRIKE, MIA, 0.4)]),  # no date: last, newest or oldest
}
STORY = Story(id="story-harbour-fees", size=2, first_url="https://a.example/fees",
              outlets=["a.example", "b.example"], outlet_count=2)


def _article(url: str, published: datetime | None, claims: list[tuple]) -> TaggedArticle:
    text = "\n\n".join(f"{c[0]}, {c[1].name if isinstance(c[1], EntitySpec) else c[1] or 'someone'} said."
                       for c in claims)
    specs = [ClaimSpec(t, speaker=who if isinstance(who, EntitySpec) else None) for t, who, _ in claims]
    site = url.split("/")[2]
    tagged = tagged_article(url, text, title=f"Harbour news from {site}", site=site, claims=specs,
                            entities=[c[1] for c in claims if isinstance(c[1], EntitySpec)], published_at=published)
    out = []
    for claim, (_, who, worth) in zip(tagged.tags.claims, claims, strict=True):
        update: dict = {"checkworthiness": worth}
        if isinstance(who, str):  # a speaker the tagger could not resolve: no name, the words that refer to it
            start = text.index(who)
            update["speaker"] = Speaker(name="", mention=who, start=start, end=start + len(who))
        out.append(claim.model_copy(update=update))
    tagged = tagged.model_copy(update={"tags": tagged.tags.model_copy(update={"claims": out})})
    return tagged.model_copy(update={"story": STORY}) if "fees" in url else tagged


@pytest.fixture(scope="module")
def settings(module_settings):
    return module_settings


@pytest.fixture(scope="module")
def indexed(es_client, settings):
    from pipeline.index.setup import ensure_indices
    from pipeline.index.writer import IndexWriter

    ensure_indices(es_client, settings)
    assert IndexWriter(es_client, settings).write([_article(u, *v) for u, v in ARTICLES.items()]).ok
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")


def _claims(es_client, settings, **query) -> list[tuple[str, str | None]]:
    resp = search(es_client, SearchQuery(claims=True, **query), settings)
    return [(c.text, c.url) for c in resp.claims]


def test_claims_in_each_order_with_copies_collapsed(es_client, settings, indexed):
    fees_new, fees_old = (FEES, "https://b.example/fees-copy"), (FEES, "https://a.example/fees")
    traffic, dues = (TRAFFIC, "https://a.example/traffic"), (DUES, "https://a.example/traffic")
    opened, strike = (OPEN, "https://c.example/open"), (STRIKE, "https://c.example/strike")
    # same date: the more check-worthy claim first
    assert _claims(es_client, settings, sort="newest") == [opened, dues, traffic, fees_new, strike]
    assert _claims(es_client, settings, sort="oldest") == [fees_old, dues, traffic, opened, strike]
    assert _claims(es_client, settings, sort="checkworthiness") == [fees_new, opened, strike, dues, traffic]
    # named speakers A to Z; then the unresolved one (empty name), then the claim without a speaker
    assert _claims(es_client, settings, sort="speaker") == [traffic, strike, fees_new, opened, dues]
    # no sort given, or relevance without words: newest first, as before sorting was an option
    assert _claims(es_client, settings) == _claims(es_client, settings, sort="relevance") == \
        [opened, dues, traffic, fees_new, strike]
    resp = search(es_client, SearchQuery(claims=True, sort="oldest"), settings)
    assert resp.total == 6 and resp.stories == 5 and resp.claims[0].story.size == 2


def test_claims_in_each_order_with_every_copy(es_client, settings, indexed):
    every = {"all_copies": True}
    assert [u for _, u in _claims(es_client, settings, sort="newest", **every)] == [
        "https://c.example/open", "https://a.example/traffic", "https://a.example/traffic",
        "https://b.example/fees-copy", "https://a.example/fees", "https://c.example/strike"]
    assert [t for t, _ in _claims(es_client, settings, sort="speaker", **every)] == [
        TRAFFIC, STRIKE, FEES, FEES, OPEN, DUES]
    assert [u for _, u in _claims(es_client, settings, sort="oldest", **every)][:2] == [
        "https://a.example/fees", "https://b.example/fees-copy"]


def test_sorted_text_search_keeps_filters_and_highlights(es_client, settings, indexed):
    resp = search(es_client, SearchQuery(text="harbour", claims=True, sort="speaker"), settings)
    assert [c.speaker or "" for c in resp.claims] == ["Ben Carter", "Mia Lopez", "Zoe Adams", "", ""]
    assert all("<em>Harbour</em>" in (c.highlight or "") or "<em>harbour</em>" in (c.highlight or "")
               for c in resp.claims)
    relevance = search(es_client, SearchQuery(text="harbour fees", claims=True), settings)
    assert relevance.claims[0].text == FEES
    scores = [c.score for c in search(es_client, SearchQuery(text="harbour", claims=True, sort="relevance"),
                                      settings).claims]
    assert None not in scores and scores == sorted(scores, reverse=True)
    named = search(es_client, SearchQuery(text="harbour", speakers=["Ben Carter"], claims=True, sort="oldest"),
                   settings)
    assert [c.text for c in named.claims] == [TRAFFIC]


def test_articles_in_each_order_with_stories_collapsed(es_client, settings, indexed):
    def urls(**query) -> list[str | None]:
        return [a.url for a in search(es_client, SearchQuery(**query), settings).articles]

    assert urls(sort="newest") == ["https://c.example/open", "https://a.example/traffic",
                                   "https://b.example/fees-copy", "https://c.example/strike"]
    assert urls(sort="oldest") == ["https://a.example/fees", "https://a.example/traffic",
                                   "https://c.example/open", "https://c.example/strike"]
    assert urls() == urls(sort="relevance") == urls(sort="newest")
    assert urls(sort="oldest", all_copies=True)[:2] == ["https://a.example/fees", "https://b.example/fees-copy"]
    assert urls(text="harbour", sort="oldest")[0] == "https://a.example/fees"
    with pytest.raises(SearchError, match="orders claims only"):
        search(es_client, SearchQuery(sort="speaker"), settings)


def test_search_cli_sort(es_url, settings, indexed, monkeypatch, capsys):
    monkeypatch.setenv("NEWSWATCH_ES_URL", es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    assert main(["search", "--claims", "--sort", "checkworthiness", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["checkworthiness"] for c in out["claims"]] == [0.9, 0.6, 0.4, 0.3, 0.2]
    assert main(["search", "--sort", "speaker"]) == 2
    assert "orders claims only" in capsys.readouterr().err
