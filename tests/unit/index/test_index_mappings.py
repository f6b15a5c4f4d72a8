"""Mappings derive from the records; documents only use mapped fields; templates compose as intended."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config import load_settings
from pipeline.index.derive import flatten_properties, model_properties
from pipeline.index.documents import article_document, claim_documents
from pipeline.index.features import ClusterFeatures
from pipeline.index.mappings import mapping_for
from pipeline.index.migrate import mapping_drift
from pipeline.index.names import IndexNames
from pipeline.index.setup import ilm_policy_body, template_bodies
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.records import Article, Event
from pipeline.tagging.schema import Claim, Entity

JS = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON", aliases=("Stoltenberg",))
TEXT = '"We will respond," Jens Stoltenberg said. Stoltenberg spoke in Brussels.'


def _sample():
    return tagged_article("https://example.org/a", TEXT, title="Respond", entities=[JS],
                          claims=[ClaimSpec("We will respond", speaker=JS, certainty="medium")])


def _leaf_paths(doc: Any, prefix: str = "") -> set[str]:
    if isinstance(doc, list):
        return set().union(*(_leaf_paths(x, prefix) for x in doc)) if doc else {prefix.rstrip(".")}
    if isinstance(doc, dict):
        out: set[str] = set()
        for key, value in doc.items():
            out |= _leaf_paths(value, f"{prefix}{key}.")
        return out or {prefix.rstrip(".")}
    return {prefix.rstrip(".")}


def _unmapped(doc: dict[str, Any], kind: str) -> set[str]:
    mapped = flatten_properties(mapping_for(kind, english=False)["properties"])
    stored_only = {p for p, t in mapped.items() if t == "object" and p.endswith("mentions")}
    return {p for p in _leaf_paths(doc) if p not in mapped and not any(p.startswith(s + ".") for s in stored_only)}


def test_every_record_field_is_mapped():
    articles = flatten_properties(mapping_for("articles", english=False)["properties"])
    for name in set(Article.model_fields) - {"outcome"}:
        assert name in articles
    for name in Claim.model_fields:
        assert f"claims.{name}" in articles
    for name in Entity.model_fields:
        assert f"entities.{name}" in articles
    events = flatten_properties(mapping_for("events", english=False)["properties"])
    assert set(Event.model_fields) <= set(events)


def test_documents_use_only_mapped_fields():
    tagged = _sample()
    assert _unmapped(article_document(tagged), "articles") == set()
    for _, doc in claim_documents(tagged):
        assert _unmapped(doc, "claims") == set()


def test_article_document_flat_fields():
    doc = article_document(_sample())
    assert doc["persons"] == ["Jens Stoltenberg"] and doc["entity_ids"] == ["person:jens-stoltenberg"]
    assert doc["entity_aliases"] == ["Stoltenberg"]
    assert doc["speakers"] == ["Jens Stoltenberg"] and doc["claim_count"] == 1
    assert doc["extraction"]["status"] == "ok" and doc["tagger"]["version"] == "synthetic-1"
    (claim_id, claim), = claim_documents(_sample())
    assert claim_id == doc["claim_ids"][0] and claim["article_id"] == doc["article_id"]
    assert claim["title"] == "Respond" and claim["certainty"]["level"] == "medium"


def test_types_follow_the_models():
    flat = flatten_properties(mapping_for("articles", english=True)["properties"])
    assert flat["entities"] == flat["claims"] == "nested"
    assert flat["claims.speaker.start"] == "long"
    assert flat["published_at"] == "date" and flat["claims.checkworthiness"] == "float"
    assert flat["claims.kind"] == flat["extraction.status"] == "keyword"
    assert flat["text"] == "text" and flat["text.english"] == "text"
    assert flat["claims.speaker.name.keyword"] == "keyword"
    assert flat["entities.mentions"] == "object"
    plain = flatten_properties(mapping_for("articles", english=False)["properties"])
    assert "text.english" not in plain and "title.keyword" in plain


def test_unsupported_type_is_an_error():
    from pydantic import BaseModel

    class Odd(BaseModel):
        value: complex

    with pytest.raises(TypeError, match="value"):
        model_properties(Odd)


def test_names_and_versions():
    names = IndexNames("nw")
    assert names.concrete("articles", 3) == "nw-articles-v3"
    assert names.concrete("events", 1) == "nw-events-v1-000001"
    assert names.version_of("events", "nw-events-v2-000004") == 2
    assert names.version_of("articles", "nw-articles-v12") == 12
    assert names.version_of("articles", "nw-articles-v1-old") is None
    with pytest.raises(ValueError, match="unknown index kind"):
        names.alias("stories")


def test_templates_compose_and_ilm_only_where_supported():
    settings = load_settings(env={}, index_prefix="nw", events_retention_days=30)
    names = IndexNames("nw")
    comps, templates = template_bodies(names, ClusterFeatures(english_analyzer=False, ilm=False), settings)
    assert set(templates) == {f"nw-{k}-template" for k in ("articles", "claims", "feeds", "events", "watches", "deliveries", "fingerprints")}
    assert templates["nw-articles-template"]["index_patterns"] == ["nw-articles-v*"]
    assert templates["nw-events-template"]["composed_of"] == ["nw-settings", "nw-events-mappings"]
    assert "nw-events-lifecycle" not in comps
    comps, templates = template_bodies(names, ClusterFeatures(english_analyzer=True, ilm=True), settings)
    assert templates["nw-events-template"]["composed_of"][-1] == "nw-events-lifecycle"
    lifecycle = comps["nw-events-lifecycle"]["template"]["settings"]["index"]["lifecycle"]
    assert lifecycle == {"name": "nw-events-policy", "rollover_alias": "nw-events"}
    assert "english" in str(comps["nw-articles-mappings"])
    policy = ilm_policy_body(settings)
    assert policy["phases"]["delete"]["min_age"] == "30d"
    assert policy["phases"]["hot"]["actions"]["rollover"]["max_age"] == settings.ilm_rollover_max_age


def test_mapping_drift():
    expected = {"a": {"type": "keyword"}, "b": {"properties": {"c": {"type": "long"}}}}
    live = {"a": {"type": "text"}, "b": {"properties": {}}, "z": {"type": "keyword"}}
    missing, wrong, extra = mapping_drift(expected, live)
    assert missing == {"b.c": "long"} and wrong == {"a": "text (expected keyword)"} and extra == ["z"]


def test_feed_state_mapping_comes_from_the_poller():
    from pipeline.feeds.state import FEED_STATE_MAPPING, FeedState

    mapping = mapping_for("feeds", english=False)
    assert mapping["properties"] == FEED_STATE_MAPPING["properties"]
    assert mapping["dynamic"] == FEED_STATE_MAPPING["dynamic"]
    assert set(FeedState.model_fields) <= set(mapping["properties"])
