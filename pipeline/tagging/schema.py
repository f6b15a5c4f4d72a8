"""The tagger's output contract: the one definition of entities and claims.

`newswatch tag --json` prints a `TagResult`; the indexer stores the same structure (nested in
articles, flattened one-per-document in the claims index); index mappings and Kibana data views
derive from these models. Every span satisfies ``text[start:end] == span.text`` on the exact text
the tagger was given.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EntityType = Literal["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "LAW", "FAC", "PRODUCT"]
ClaimKind = Literal["direct_quote", "mixed", "indirect", "reported", "assertion"]
ClaimType = Literal["quantity", "event", "prediction", "causal", "comparison", "rule", "opinion"]
CertaintyLevel = Literal["high", "medium", "low"]
SourceRelation = Literal["origin", "relayed_by", "interview_with"]


class Tagger(BaseModel):
    """Which tagger tagged the text, the language it found, and what it left out and why."""

    name: str = "newswatch"
    version: str
    language: str | None = Field(default=None, description="ISO 639-1 code detected from the text; None: undetermined")
    language_confidence: float | None = None
    language_detector: str | None = None
    claims_skipped: str | None = Field(default=None, description="why claims were not extracted (e.g. not English)")
    entities_skipped: str | None = Field(default=None, description="why entities were not extracted (no model)")


class Mention(BaseModel):
    start: int
    end: int
    text: str


class Entity(BaseModel):
    """A person, organisation or place, merged across its mentions in one document.

    ``id`` is ``<type>:<slug of canonical name>`` and is stable across documents (the alias
    table maps "DPRK" and "North Korea" to the same id).
    """

    id: str
    name: str
    type: EntityType
    aliases: list[str] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)


class Speaker(BaseModel):
    """Who made the claim. ``name``/``entity_id`` are the resolved entity; a pronoun, relative pronoun or
    description that resolves to nothing keeps ``name`` empty and its words in ``mention``."""

    name: str = Field(description="the resolved speaker's name; empty when the mention could not be resolved")
    entity_id: str | None = None
    mention: str = Field(description="the words in the text that refer to the speaker")
    start: int
    end: int


class Cue(BaseModel):
    text: str
    lemma: str
    start: int
    end: int


class SourceLink(BaseModel):
    name: str
    entity_id: str | None = None
    relation: SourceRelation


class Certainty(BaseModel):
    """The speaker's commitment on a three-level collapse of FactBank's factuality scale: ``high`` (stated
    as fact or boosted), ``medium`` (probable), ``low`` (possible). ``cues`` are the words that decided it."""

    level: CertaintyLevel
    cues: list[str] = Field(default_factory=list)


class QuoteSpan(BaseModel):
    """A verbatim (quoted) part of a claim, without its quote marks."""

    start: int
    end: int


class Claim(BaseModel):
    """A statement in the text: attributed (quote, indirect, reported) or an unattributed assertion."""

    id: str
    text: str
    start: int
    end: int
    kind: ClaimKind
    quotes: list[QuoteSpan] = Field(default_factory=list, description="the quoted parts of the claim span")
    speaker: Speaker | None = None
    cue: Cue | None = None
    source_chain: list[SourceLink] = Field(default_factory=list)
    types: list[ClaimType] = Field(default_factory=list)
    certainty: Certainty
    checkworthiness: float = Field(ge=0.0, le=1.0)
    about: list[str] = Field(default_factory=list, description="entity ids the claim is about")


class TagResult(BaseModel):
    tagger: Tagger
    entities: list[Entity] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
