"""Mappings of the four indices, derived from the records (pipeline.records, pipeline.tagging.schema,
pipeline.feeds.state) plus the index-only fields in pipeline.index.documents.

`english=True` adds an English-stemmed `.english` subfield (Elastic's built-in `english` analyzer) to the
prose fields; setup passes what `pipeline.index.features` detected (a full distribution has it, and so
does the embedded dev node through its English analysis plugin; a cluster without it gets none).

Search-only fields are filled by `copy_to` and never appear in `_source`:
    entity_text  (articles: entity_names + entity_aliases; claims: about_names)  names as text
    claim_text   (articles: every claims.text)                                   claim text without nesting
so a query can weigh a match in the entities or in a claim above one in the body without nested queries.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from pipeline.alerts.mapping import deliveries_properties, watches_properties
from pipeline.index.derive import KEYWORD, model_properties, text_field
from pipeline.index.documents import ARTICLE_FIELDS_IN_CLAIMS, ArticleIndexFields, ClaimIndexFields
from pipeline.records import Article, Event
from pipeline.stories.mapping import fingerprints_properties
from pipeline.tagging.schema import Claim

log = logging.getLogger(__name__)

MAPPING_VERSION = 1
_MENTIONS_STORED_ONLY = {"type": "object", "enabled": False}


# Search-only fields (filled by copy_to; see the module docstring).
ENTITY_TEXT = "entity_text"
CLAIM_TEXT = "claim_text"


def _copied_to(spec: dict[str, Any], target: str) -> dict[str, Any]:
    return {**spec, "copy_to": [target]}


def _speaker_and_claim_text(english: bool, prefix: str) -> dict[str, dict[str, Any]]:
    p = f"{prefix}." if prefix else ""
    return {
        f"{p}text": text_field(english),
        f"{p}speaker.name": text_field(english=False, keyword=True),
        f"{p}source_chain.name": text_field(english=False, keyword=True),
    }


def articles_properties(english: bool) -> dict[str, Any]:
    text = {
        "title": text_field(english, keyword=True),
        "text": text_field(english, offsets=True),
        "summary": text_field(english),
        "description": text_field(english),
        "extraction.reason": text_field(english=False, keyword=True),
        "entities.name": text_field(english=False, keyword=True),
        **_speaker_and_claim_text(english, "claims"),
    }
    text["claims.text"] = _copied_to(text["claims.text"], CLAIM_TEXT)
    names = _copied_to(KEYWORD, ENTITY_TEXT)
    props = model_properties(Article, text=text, exclude={"outcome"})
    props.update(model_properties(ArticleIndexFields, text=text, nested={"entities", "claims"},
                                  overrides={"entities.mentions": _MENTIONS_STORED_ONLY,
                                             "entity_names": names, "entity_aliases": names}))
    props[ENTITY_TEXT] = text_field(english=False)
    props[CLAIM_TEXT] = text_field(english)
    return props


def claims_properties(english: bool) -> dict[str, Any]:
    text = {"title": text_field(english, keyword=True), **_speaker_and_claim_text(english, "")}
    props = model_properties(Claim, text=text)
    article = model_properties(Article, text=text)
    props.update({name: article[name] for name in ARTICLE_FIELDS_IN_CLAIMS})
    props.update(model_properties(ClaimIndexFields, text=text,
                                  overrides={"about_names": _copied_to(KEYWORD, ENTITY_TEXT)}))
    props[ENTITY_TEXT] = text_field(english=False)
    return props


def _feed_state_mapping() -> dict[str, Any] | None:
    """The poller's own mapping of FeedState (pipeline.feeds.state owns the feed-state record)."""
    try:
        from pipeline.feeds.state import FEED_STATE_MAPPING
    except ImportError:
        return None
    return FEED_STATE_MAPPING


# Used only when pipeline.feeds.state is unavailable.
_FALLBACK_FEED_PROPERTIES: dict[str, Any] = {
    "feed_id": KEYWORD, "url": KEYWORD, "status": KEYWORD, "reason": text_field(False, keyword=True),
    "last_polled_at": {"type": "date"}, "next_poll_at": {"type": "date"},
    "consecutive_failures": {"type": "integer"}, "disabled": {"type": "boolean"},
}


def feeds_properties(english: bool) -> dict[str, Any]:
    mapping = _feed_state_mapping()
    if mapping is None:
        log.info("pipeline.feeds.state is not available; using the fallback feed-state mapping")
        return json.loads(json.dumps(_FALLBACK_FEED_PROPERTIES))
    return json.loads(json.dumps(mapping["properties"]))


def events_properties(english: bool) -> dict[str, Any]:
    return model_properties(Event, text={"reason": text_field(False, keyword=True)})


PROPERTIES = {
    "articles": articles_properties,
    "claims": claims_properties,
    "feeds": feeds_properties,
    "events": events_properties,
    "watches": watches_properties, "deliveries": deliveries_properties,  # pipeline/alerts
    "fingerprints": fingerprints_properties,  # pipeline/stories
}

_DYNAMIC_TEMPLATES = {
    # Event.details and other free-form dicts: values of any type become keywords.
    "events": [{"details_as_keywords": {"path_match": "details.*", "mapping": dict(KEYWORD)}}],
}


def mapping_for(kind: str, english: bool) -> dict[str, Any]:
    """The full `mappings` body for an index kind, with a hash of itself in `_meta` for drift checks."""
    body: dict[str, Any] = {
        "dynamic": _feeds_dynamic() if kind == "feeds" else "false",
        "properties": PROPERTIES[kind](english),
    }
    if kind in _DYNAMIC_TEMPLATES:
        body["dynamic"] = "false"
        body["dynamic_templates"] = _DYNAMIC_TEMPLATES[kind]
        # dynamic templates only apply under a dynamic object
        body["properties"]["details"] = {"type": "object", "dynamic": "true"}
    body["_meta"] = {"newswatch_kind": kind, "mapping_version": MAPPING_VERSION,
                     "mapping_hash": mapping_hash(body["properties"])}
    return body


def _feeds_dynamic() -> str:
    mapping = _feed_state_mapping()
    return str(mapping.get("dynamic", "strict")) if mapping else "true"


def mapping_hash(properties: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()[:16]
