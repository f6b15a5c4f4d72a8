"""The documents stored per index, built from the pipeline records.

An article document is the `Article` record (its outcome renamed `extraction`) plus `ArticleIndexFields`;
a claim document is the tagger's `Claim` plus `ClaimIndexFields` (the article's key fields copied in, so
Kibana can filter and chart claims without nested queries).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from pipeline.outcomes import Outcome
from pipeline.records import Article, Event, Story, TaggedArticle
from pipeline.tagging.schema import Claim, Entity, Tagger

PERSON_TYPES = frozenset({"PERSON"})
ORG_TYPES = frozenset({"ORG", "NORP"})
PLACE_TYPES = frozenset({"GPE", "LOC", "FAC"})

# Article fields copied into every claim document.
ARTICLE_FIELDS_IN_CLAIMS = ("url", "canonical_url", "title", "site", "domain", "feed_ids", "feed_names",
                            "published_at", "fetched_at", "language", "authors")


class ArticleIndexFields(BaseModel):
    """Fields the indexer adds to an article: the tags, plus flat keyword arrays Kibana can aggregate on."""

    extraction: Outcome
    tagger: Tagger
    entities: list[Entity] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    persons: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    entity_ids: list[str] = Field(default_factory=list)
    entity_names: list[str] = Field(default_factory=list)
    entity_aliases: list[str] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    speaker_ids: list[str] = Field(default_factory=list)
    claim_ids: list[str] = Field(default_factory=list)
    claim_count: int = 0
    entity_count: int = 0
    word_count: int = 0
    story: Story | None = None
    indexed_at: datetime


class ClaimStory(BaseModel):
    """A claim's place in its article's story: `claim_key` is the same for the same statement by the
    same speaker in every copy, so copies count once."""

    id: str
    claim_key: str


class ClaimIndexFields(BaseModel):
    """Fields the indexer adds to a claim: ids, the article's key fields and flat names for charts."""

    claim_id: str
    article_id: str
    tagger_version: str
    about_names: list[str] = Field(default_factory=list)
    story: ClaimStory | None = None
    indexed_at: datetime


def claim_doc_id(article_id: str, claim_id: str) -> str:
    return f"{article_id}:{claim_id}"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def article_document(tagged: TaggedArticle, indexed_at: datetime | None = None) -> dict[str, Any]:
    article, tags = tagged.article, tagged.tags
    now = indexed_at or datetime.now(UTC)
    doc = article.model_dump(mode="json", exclude={"outcome"})
    doc["extraction"] = article.outcome.model_dump(mode="json")
    doc["tagger"] = tags.tagger.model_dump(mode="json")
    doc["entities"] = [e.model_dump(mode="json") for e in tags.entities]
    doc["claims"] = [c.model_dump(mode="json") for c in tags.claims]
    doc["persons"] = _unique([e.name for e in tags.entities if e.type in PERSON_TYPES])
    doc["organizations"] = _unique([e.name for e in tags.entities if e.type in ORG_TYPES])
    doc["places"] = _unique([e.name for e in tags.entities if e.type in PLACE_TYPES])
    doc["entity_ids"] = _unique([e.id for e in tags.entities])
    doc["entity_names"] = _unique([e.name for e in tags.entities])
    doc["entity_aliases"] = _unique([a for e in tags.entities for a in e.aliases])
    doc["speakers"] = _unique([c.speaker.name for c in tags.claims if c.speaker])
    doc["speaker_ids"] = _unique([c.speaker.entity_id for c in tags.claims if c.speaker and c.speaker.entity_id])
    doc["claim_ids"] = [claim_doc_id(article.article_id, c.id) for c in tags.claims]
    doc["claim_count"] = len(tags.claims)
    doc["entity_count"] = len(tags.entities)
    doc["word_count"] = len(article.text.split())
    doc["story"] = (tagged.story or Story.single(article)).model_dump(mode="json")
    doc["indexed_at"] = now.isoformat()
    return doc


def claim_documents(tagged: TaggedArticle, indexed_at: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(document id, document) for every claim of the article."""
    article, tags = tagged.article, tagged.tags
    now = (indexed_at or datetime.now(UTC)).isoformat()
    names = {e.id: e.name for e in tags.entities}
    story_id = (tagged.story or Story.single(article)).id
    shared = article.model_dump(mode="json", include=set(ARTICLE_FIELDS_IN_CLAIMS))
    out: list[tuple[str, dict[str, Any]]] = []
    for claim in tags.claims:
        doc_id = claim_doc_id(article.article_id, claim.id)
        doc = claim.model_dump(mode="json")
        doc.update(shared)
        doc.update(claim_id=doc_id, article_id=article.article_id, tagger_version=tags.tagger.version,
                   about_names=[names[i] for i in claim.about if i in names],
                   story={"id": story_id, "claim_key": claim_key(story_id, claim)}, indexed_at=now)
        out.append((doc_id, doc))
    return out


_NOT_WORDS = re.compile(r"[\W_]+", re.UNICODE)


def claim_key(story_id: str, claim: Claim) -> str:
    """The same statement by the same speaker within one story gives the same key."""
    speaker = claim.speaker
    return claim_key_of(story_id, (speaker.entity_id or speaker.name) if speaker else "", claim.text)


def claim_key_of(story_id: str, speaker: str, text: str) -> str:
    words = _NOT_WORDS.sub(" ", text.casefold()).strip()
    digest = hashlib.blake2b(f"{speaker.casefold()}\x1f{words}".encode(), digest_size=10).hexdigest()
    return f"{story_id}:{digest}"


def event_document(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def article_from_document(doc: dict[str, Any]) -> Article:
    """The Article record back from its stored document (for migrations and re-tagging)."""
    data = {k: v for k, v in doc.items() if k in Article.model_fields}
    data["outcome"] = doc.get("extraction") or {"status": "ok"}
    return Article.model_validate(data)
