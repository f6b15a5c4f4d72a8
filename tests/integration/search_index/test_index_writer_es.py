"""Templates, aliases and the bulk writer against the real Elasticsearch node."""

from __future__ import annotations

import pytest

from pipeline.index.derive import flatten_properties
from pipeline.index.names import KINDS, IndexNames
from pipeline.index.setup import ensure_indices, setup_indices
from pipeline.index.synthetic import ClaimSpec, EntitySpec, recombined_corpus, tagged_article
from pipeline.index.writer import existing_article_ids
from pipeline.outcomes import Status
from pipeline.records import Event

pytestmark = pytest.mark.integration

NK = EntitySpec("gpe:north-korea", "North Korea", "GPE")
JS = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON")
TEXT = ('North Korea may supply more artillery shells, officials warned on Monday.\n\n'
        '"There is no doubt that North Korea is arming Russia," Jens Stoltenberg said.\n\n'
        'Exports rose by 40 percent last year.')


def _article(claims: list[ClaimSpec], url: str = "https://example.org/nk") :
    return tagged_article(url, TEXT, title="Shells from North Korea", entities=[NK, JS], claims=claims)


def _count(es, index: str, **query) -> int:
    es.indices.refresh(index=index)
    body = {"query": {"term": query}} if query else {}
    return int(es.count(index=index, **body)["count"])


def test_templates_create_versioned_indices_behind_aliases(es_client, settings):
    names = IndexNames(settings.index_prefix)
    first = setup_indices(es_client, settings)
    assert sorted(first.created) == sorted([names.concrete(k, 1) for k in KINDS])
    second = setup_indices(es_client, settings)  # idempotent
    assert second.created == [] and second.drift == {}
    for kind in ("articles", "claims", "feeds", "events"):
        assert es_client.indices.exists_index_template(name=names.template(kind))
        assert list(es_client.indices.get_alias(name=names.alias(kind)).body) == [names.concrete(kind, 1)]
    # the mapping came from the template: nested entities and claims, flat keyword arrays, a hash in _meta
    live = es_client.indices.get_mapping(index=names.articles).body[names.concrete("articles", 1)]["mappings"]
    flat = flatten_properties(live["properties"])
    assert flat["entities"] == "nested" and flat["claims"] == "nested"
    assert flat["persons"] == flat["entity_ids"] == flat["claims.certainty.level"] == "keyword"
    assert flat["text"] == "text" and flat["published_at"] == "date"
    assert live["_meta"]["mapping_hash"]
    events_alias = es_client.indices.get_alias(name=names.events).body
    assert events_alias[names.concrete("events", 1)]["aliases"][names.events]["is_write_index"] is True


def test_rewriting_the_same_batch_updates_in_place(es_client, settings, writer):
    batch = list(recombined_corpus(12, seed=3))
    first = writer.write(batch)
    assert first.ok and first.indexed == 12
    claims = sum(len(t.tags.claims) for t in batch)
    assert first.claims_indexed == claims
    again = writer.write(batch + batch[:3])  # a retried task, with duplicates inside the batch too
    assert again.ok and again.indexed == 12 and again.duplicates == 3 and again.claims_deleted == 0
    names = IndexNames(settings.index_prefix)
    assert _count(es_client, names.articles) == 12
    assert _count(es_client, names.claims) == claims
    assert existing_article_ids(es_client, [batch[0].article.article_id, "missing"], settings) == {
        batch[0].article.article_id}


def test_retagging_replaces_the_articles_claims(es_client, settings, writer):
    names = IndexNames(settings.index_prefix)
    old = _article([ClaimSpec("There is no doubt that North Korea is arming Russia", speaker=JS),
                    ClaimSpec("North Korea may supply more artillery shells", certainty="low", kind="assertion")])
    other = _article([ClaimSpec("Exports rose by 40 percent last year", kind="assertion")],
                     url="https://example.org/other")
    assert writer.write([old, other]).ok
    article_id = old.article.article_id
    assert _count(es_client, names.claims, article_id=article_id) == 2
    new = _article([ClaimSpec("Exports rose by 40 percent last year", kind="assertion")])
    report = writer.write([new])
    assert report.ok and report.claims_deleted == 2 and report.claims_indexed == 1
    es_client.indices.refresh(index=names.claims)
    hits = es_client.search(index=names.claims, query={"term": {"article_id": article_id}})["hits"]["hits"]
    assert [h["_source"]["text"] for h in hits] == ["Exports rose by 40 percent last year"]
    assert _count(es_client, names.claims, article_id=other.article.article_id) == 1  # untouched
    stored = es_client.get(index=names.articles, id=article_id)["_source"]
    assert stored["claim_count"] == 1 and stored["claim_ids"] == [hits[0]["_id"]]


def test_a_partly_failing_bulk_reports_the_bad_item_and_indexes_the_rest(es_client, settings, writer):
    names = IndexNames(settings.index_prefix)
    good = list(recombined_corpus(4, seed=5))
    bad = _article([ClaimSpec("Exports rose by 40 percent last year", kind="assertion")],
                   url="https://example.org/bad-date")
    bad.article.published_at = "the day after tomorrow"  # type: ignore[assignment]  # wrong type for a date field
    with pytest.warns(UserWarning):  # pydantic warns while serialising the wrong type; ES rejects it
        report = writer.write([good[0], good[1], bad, good[2], good[3]])
    assert report.indexed == 4 and len(report.failed) == 1
    failure = report.failed[0]
    assert failure.article_id == bad.article.article_id
    assert failure.outcome.status is Status.INDEX_ERROR
    assert "published_at" in failure.outcome.reason and "permanent" in failure.outcome.reason
    assert not failure.retryable  # a mapping error will fail again: the caller should not retry it
    assert existing_article_ids(es_client, [t.article.article_id for t in good + [bad]], settings) == {
        t.article.article_id for t in good}
    assert _count(es_client, names.articles) == 4


def test_events_are_recorded_with_deterministic_ids(es_client, settings, writer):
    from datetime import UTC, datetime

    names = IndexNames(settings.index_prefix)
    events = [Event(event_id=f"ev-{i}", at=datetime.now(UTC), stage="fetch", status="timeout", reason="slow",
                    retryable=True, url=f"https://example.org/{i}", details={"attempt": i, "host": "example.org"})
              for i in range(3)]
    assert writer.record_events(events).indexed == 3
    assert writer.record_events(events).indexed == 3
    assert _count(es_client, names.events) == 3
    hit = es_client.search(index=names.events, query={"term": {"details.host": "example.org"}})
    assert hit["hits"]["total"]["value"] == 3


def test_a_plain_index_in_the_aliases_place_is_adopted(es_client, settings):
    names = IndexNames(settings.index_prefix)
    es_client.index(index=names.feeds, id="feed-1", document={"feed_id": "feed-1", "status": "ok"}, refresh=True)
    report = setup_indices(es_client, settings)
    assert report.adopted == [names.concrete("feeds", 1)]
    assert list(es_client.indices.get_alias(name=names.feeds).body) == [names.concrete("feeds", 1)]
    assert es_client.get(index=names.feeds, id="feed-1")["_source"]["status"] == "ok"
    ensure_indices(es_client, settings)  # and stays idempotent afterwards


def test_additive_mapping_changes_are_applied_in_place(es_client, settings):
    names = IndexNames(settings.index_prefix)
    old = names.concrete("claims", 1)
    es_client.indices.create(index=old, mappings={"properties": {"text": {"type": "text", "analyzer": "standard"}}},
                             aliases={names.claims: {}})
    report = setup_indices(es_client, settings)
    assert report.mapping_updated == [names.claims] and report.drift == {}
    live = es_client.indices.get_mapping(index=names.claims).body[old]["mappings"]
    assert flatten_properties(live["properties"])["speaker.name.keyword"] == "keyword"
    assert setup_indices(es_client, settings).mapping_updated == []  # the hash now matches
