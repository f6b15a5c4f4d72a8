"""The tagger: text -> TagResult (entities and claims), one spaCy model per process.

``get_tagger().tag(text)`` for one text; ``tag_many(texts)`` streams through ``nlp.pipe`` in
batches (optionally several processes) and post-processes each parsed Doc.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.tagging import aliases
from pipeline.tagging.attribution import Attributor, Draft, sentence_units, trim
from pipeline.tagging.certainty import certainty_of_tokens
from pipeline.tagging.checkworthiness import FACTUAL_TYPES, checkworthiness
from pipeline.tagging.claim_types import claim_types
from pipeline.tagging.docinfo import info
from pipeline.tagging.entities import EntityIndex, build_index, build_matcher, fix_speaker_type
from pipeline.tagging.nlp import load_nlp
from pipeline.tagging.schema import Claim, Cue, Entity, Mention, SourceLink, Speaker, TagResult
from pipeline.tagging.schema import Tagger as TaggerInfo
from pipeline.tagging.spans import validate_spans
from pipeline.tagging.speakers import SpeakerResolver

logger = logging.getLogger(__name__)

TAGGER_VERSION = "1.1.0"
ASSERTION_MIN_WORDS = 6
ASSERTION_MIN_SCORE = 0.2
MAX_CHARS = 200_000


_HEDGING_CUES = frozenset({"suggest", "claim", "allege", "speculate", "believe", "think", "confirm", "insist"})


def claim_id(text: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{start}:{end}:{text}".encode()).hexdigest()[:20]


class Tagger:
    def __init__(self, nlp: Language | None = None) -> None:
        self.nlp = nlp or load_nlp()
        self.matcher = build_matcher(self.nlp)
        self.info = TaggerInfo(name="newswatch", version=TAGGER_VERSION)
        self.failures = 0

    def tag(self, text: str) -> TagResult:
        text = text if isinstance(text, str) else ""
        return self.tag_doc(self.nlp(text[:MAX_CHARS]), text)

    def tag_many(self, texts: Iterable[str], batch_size: int | None = None, n_process: int | None = None) -> list[TagResult]:
        """Tag many texts through ``nlp.pipe``, `batch_size` at a time, in `n_process` spaCy processes."""
        return list(self.iter_tag(texts, batch_size=batch_size, n_process=n_process))

    def iter_tag(self, texts: Iterable[str], batch_size: int | None = None, n_process: int | None = None) -> Iterator[TagResult]:
        batch_size = batch_size or 16
        n_process = n_process or 1
        items = [t if isinstance(t, str) else "" for t in texts]
        docs = self.nlp.pipe((t[:MAX_CHARS] for t in items), batch_size=batch_size, n_process=n_process)
        for text, doc in zip(items, docs, strict=True):
            yield self.tag_doc(doc, text)

    def tag_doc(self, doc: Doc, text: str | None = None) -> TagResult:
        """Entities and claims of a parsed Doc. A rule failure on one text is logged and yields an
        empty result for that text, so one bad article never sinks a batch."""
        try:
            return self._tag_doc(doc, text)
        except Exception:
            logger.exception("tagging failed for a text of %d characters; returning no claims", len(doc.text))
            self.failures += 1
            return TagResult(tagger=self.info)

    def _tag_doc(self, doc: Doc, text: str | None = None) -> TagResult:
        text = info(doc).text if text is None else text
        index = build_index(doc, self.matcher)
        attributor = Attributor(doc, index)
        drafts = attributor.drafts()
        resolver = SpeakerResolver(doc, index)
        for d in drafts:
            if d.carry is not None and d.carry.speaker is not None:
                d.speaker = d.carry.speaker
                d.cue = d.cue or d.carry.cue
            else:
                d.speaker = resolver.resolve(d.speaker_token, d.start)
            if d.speaker is not None:
                resolver.remember(d.end, d.speaker)
                if d.speaker.key:
                    fix_speaker_type(index.clusters[d.speaker.key])
        _backfill_quote_speakers(drafts)
        _relays_are_orgs(attributor, index)
        drafts += _assertions(doc, drafts, index)
        drafts.sort(key=lambda d: (d.start, d.end))
        chains = _chains(attributor, drafts)
        claims = [_claim(doc, d, index, chains.get(id(d), [])) for d in drafts]
        result = TagResult(tagger=self.info, entities=_entities(index), claims=claims)
        return validate_spans(info(doc).text, result)


@functools.cache
def get_tagger() -> Tagger:
    """One tagger (and one spaCy model) per process."""
    return Tagger()


def _tokens(doc: Doc, start: int, end: int) -> list:
    return info(doc).tokens_in(start, end)


def _about(index: EntityIndex, tokens: list) -> list[str]:
    seen: list[str] = []
    for t in tokens:
        key = index.token_cluster[t.i]
        if key and key not in seen:
            seen.append(key)
    return [index.clusters[k].id for k in seen]


def _backfill_quote_speakers(drafts: list[Draft]) -> None:
    """The opening paragraphs of a multi-paragraph quote take the speaker named at its end."""
    by_quote = {id(d.quote): d for d in drafts if d.quote is not None}
    for d in reversed(drafts):
        q = d.quote
        if q is None or q.continues is None or d.speaker is None:
            continue
        first = by_quote.get(id(q.continues))
        if first is not None and first.speaker is None:
            first.speaker, first.cue = d.speaker, first.cue or d.cue


def _relays_are_orgs(attributor: Attributor, index: EntityIndex) -> None:
    for link in attributor.links():
        cluster = index.clusters.get(link.key)
        if link.article_level and cluster is not None and not cluster.table_id and cluster.type != "ORG":
            cluster.type = "ORG"


def _assertions(doc: Doc, drafts: list[Draft], index: EntityIndex) -> list[Draft]:
    out: list[Draft] = []
    text = info(doc).text
    for s, e, _ in sentence_units(doc):
        s, e = trim(text, s, e)
        if e <= s or len(text[s:e].split()) < ASSERTION_MIN_WORDS or text[s:e].rstrip().endswith("?"):
            continue
        if any(d.start < e and s < d.end and (min(d.end, e) - max(d.start, s)) > 0.6 * (e - s) for d in drafts):
            continue
        if any(d.cue is not None and s <= d.cue.idx < e and not d.verb_phrase and d.kind != "assertion" for d in drafts):
            continue  # the sentence is an attribution; its claim is already there
        toks = _tokens(doc, s, e)
        types = claim_types(toks)
        if not FACTUAL_TYPES.intersection(types) and "quantity" not in types:
            continue
        about = _about(index, toks)
        certainty = certainty_of_tokens(toks, text[s:e])
        score = checkworthiness(text=text[s:e], types=types, about=about, kind="assertion",
                                has_named_speaker=False, certainty=certainty.level)
        if score >= ASSERTION_MIN_SCORE:
            out.append(Draft(s, e, "assertion", cached=(toks, types, about, certainty)))
    return out


def _chains(attributor: Attributor, drafts: list[Draft]) -> dict[int, list[tuple[str, str]]]:
    links = attributor.links()
    article = []
    for rel in ("origin", "relayed_by"):
        for link in links:
            if link.article_level and link.relation == rel and (link.key, rel) not in article:
                article.append((link.key, rel))
    by_speaker: dict[str, list[tuple[str, str]]] = {}
    for link in links:
        if link.relation != "interview_with":
            continue
        for d in drafts:
            if d.cue is not None and d.cue.i == link.cue.i and d.speaker is not None and d.speaker.key:
                by_speaker.setdefault(d.speaker.key, [])
                if (link.key, "interview_with") not in by_speaker[d.speaker.key]:
                    by_speaker[d.speaker.key].append((link.key, "interview_with"))
    out: dict[int, list[tuple[str, str]]] = {}
    for d in drafts:
        if d.kind == "assertion":
            continue
        key = d.speaker.key if d.speaker is not None else None
        chain = list(by_speaker.get(key, [])) if key else []
        for link in links:
            if link.relation == "interview_with" and d.cue is not None and link.cue.i == d.cue.i:
                if (link.key, "interview_with") not in chain:
                    chain.append((link.key, "interview_with"))
        members = {k for k, _ in article}
        if key not in members:
            chain += article
        out[id(d)] = chain
    return out


def _claim(doc: Doc, d: Draft, index: EntityIndex, chain: list[tuple[str, str]]) -> Claim:
    text = info(doc).text
    claim_text = text[d.start:d.end]
    if d.cached is not None:
        toks, types, about, certainty = d.cached
    else:
        toks = _tokens(doc, d.start, d.end)
        types = claim_types(toks)
        about = _about(index, toks)
        certainty = certainty_of_tokens(toks, claim_text)
    if d.cue is not None and d.cue.lemma_.lower() in _HEDGING_CUES:
        certainty = certainty_of_tokens([d.cue, *toks], claim_text)
    speaker = None
    if d.speaker is not None:
        sp = d.speaker
        cluster = index.clusters.get(sp.key) if sp.key else None
        speaker = Speaker(name=cluster.name if cluster else sp.name, entity_id=cluster.id if cluster else None,
                          mention=sp.mention, start=sp.start, end=sp.end)
    cue = None
    if d.cue is not None:
        c = d.cue
        cue = Cue(text=c.text, lemma=c.lemma_.lower(), start=c.idx, end=c.idx + len(c.text))
    source_chain = [SourceLink(name=index.clusters[k].name, entity_id=index.clusters[k].id, relation=rel)
                    for k, rel in chain if k in index.clusters]
    score = checkworthiness(text=claim_text, types=types, about=about, kind=d.kind,
                            has_named_speaker=speaker is not None and speaker.entity_id is not None,
                            certainty=certainty.level)
    return Claim(id=claim_id(claim_text, d.start, d.end), text=claim_text, start=d.start, end=d.end, kind=d.kind,
                 speaker=speaker, cue=cue, source_chain=source_chain, types=types, certainty=certainty,
                 checkworthiness=score, about=about)


def _entities(index: EntityIndex) -> list[Entity]:
    merged: dict[str, Entity] = {}
    for cluster in sorted(index.clusters.values(), key=lambda c: c.first if c.mentions else 0):
        if not cluster.mentions:
            continue
        eid = cluster.id
        ent = merged.get(eid)
        if ent is None:
            ent = merged[eid] = Entity(id=eid, name=cluster.name, type=cluster.type)  # type: ignore[arg-type]
        names = set(ent.aliases) | cluster.aliases | {m.text for m in cluster.mentions}
        ent.aliases = sorted(n for n in names if n != ent.name)
        ent.mentions = sorted([*ent.mentions, *(Mention(start=m.start, end=m.end, text=m.text) for m in cluster.mentions)],
                              key=lambda m: m.start)
    return list(merged.values())


__all__ = ["TAGGER_VERSION", "Tagger", "aliases", "claim_id", "get_tagger"]
