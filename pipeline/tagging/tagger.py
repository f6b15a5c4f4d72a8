"""The tagger: text -> TagResult (entities and claims), one spaCy model per process.

``get_tagger().tag(text)`` for one text; ``tag_many(texts)`` streams through ``nlp.pipe`` in
batches (optionally several processes) and post-processes each parsed Doc.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.tagging import aliases, foreign
from pipeline.tagging.attribution import Attributor, Draft, sentence_units, trim
from pipeline.tagging.certainty import certainty_of_tokens
from pipeline.tagging.checkworthiness import FACTUAL_TYPES, checkworthiness
from pipeline.tagging.claim_types import claim_types
from pipeline.tagging.docinfo import info
from pipeline.tagging.entities import EntityIndex, build_index, build_matcher, fix_speaker_type
from pipeline.tagging.language import Detected, detect
from pipeline.tagging.nlp import load_foreign_nlp, load_nlp
from pipeline.tagging.schema import Claim, Cue, Entity, Mention, QuoteSpan, SourceLink, Speaker, TagResult
from pipeline.tagging.schema import Tagger as TaggerInfo
from pipeline.tagging.spans import validate_spans
from pipeline.tagging.speakers import SpeakerResolver
from pipeline.tagging.statements import one_per_statement

logger = logging.getLogger(__name__)

TAGGER_VERSION = "2.0.0"
ASSERTION_MIN_WORDS = 6
ASSERTION_MIN_SCORE = 0.2
MAX_CHARS = 200_000
CLAIM_LANGUAGE = "en"  # the claim rules and the default model are English

_FINITE_TAGS = frozenset({"VBD", "VBZ", "VBP", "MD"})


def is_english(detected: Detected) -> bool:
    """English rules run on English text and on text too short or mixed to tell."""
    return detected.code in (None, CLAIM_LANGUAGE)


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
        detected = detect(text)
        if not is_english(detected):
            return self.tag_foreign(text, detected)
        return self.tag_doc(self.nlp(text[:MAX_CHARS]), text, detected)

    def tag_many(self, texts: Iterable[str], batch_size: int | None = None, n_process: int | None = None) -> list[TagResult]:
        """Tag many texts through ``nlp.pipe``, `batch_size` at a time, in `n_process` spaCy processes."""
        return list(self.iter_tag(texts, batch_size=batch_size, n_process=n_process))

    def iter_tag(self, texts: Iterable[str], batch_size: int | None = None, n_process: int | None = None) -> Iterator[TagResult]:
        """English texts stream through the English model; others go to their own language's model (entities
        only) or, with none installed, are not parsed at all."""
        batch_size = batch_size or 16
        n_process = n_process or 1
        items = [t if isinstance(t, str) else "" for t in texts]
        languages = [detect(t) for t in items]
        english = (t[:MAX_CHARS] for t, lang in zip(items, languages, strict=True) if is_english(lang))
        docs = iter(self.nlp.pipe(english, batch_size=batch_size, n_process=n_process))
        for text, lang in zip(items, languages, strict=True):
            yield self.tag_doc(next(docs), text, lang) if is_english(lang) else self.tag_foreign(text, lang)

    def tag_doc(self, doc: Doc, text: str | None = None, detected: Detected | None = None) -> TagResult:
        """Entities and claims of a parsed Doc. A rule failure on one text is logged and yields an
        empty result for that text, so one bad article never sinks a batch."""
        try:
            info(doc, text[:MAX_CHARS] if isinstance(text, str) else None)
            detected = detected or detect(info(doc).text)
            if not is_english(detected):
                return self.tag_foreign(info(doc).text, detected)
            return self._tag_doc(doc, text, detected)
        except Exception:
            logger.exception("tagging failed for a text of %d characters; returning no claims", len(doc.text))
            self.failures += 1
            return TagResult(tagger=self.info)

    def tag_foreign(self, text: str, detected: Detected) -> TagResult:
        """A text not in English: no claims (the reason recorded); entities from its language's model if
        one is installed, else none (the reason recorded)."""
        lang = detected.code or "und"
        claims_skipped = f"language {lang}: the claim rules are English only"
        nlp = load_foreign_nlp(lang)
        if nlp is None:
            info_ = self._info(detected, claims_skipped=claims_skipped,
                               entities_skipped=f"language {lang}: no spaCy model installed")
            return TagResult(tagger=info_)
        try:
            doc = nlp(text[:MAX_CHARS])
            result = TagResult(tagger=self._info(detected, claims_skipped=claims_skipped), entities=foreign.entities_of(doc))
            return validate_spans(doc.text, result)
        except Exception:
            logger.exception("entity tagging failed for a %s text of %d characters", lang, len(text))
            self.failures += 1
            return TagResult(tagger=self._info(detected, claims_skipped=claims_skipped, entities_skipped="tagger error"))

    def _info(self, detected: Detected, claims_skipped: str | None = None, entities_skipped: str | None = None) -> TaggerInfo:
        return TaggerInfo(name=self.info.name, version=self.info.version, language=detected.code,
                          language_confidence=detected.confidence, language_detector=detected.detector,
                          claims_skipped=claims_skipped, entities_skipped=entities_skipped)

    def _tag_doc(self, doc: Doc, text: str | None, detected: Detected) -> TagResult:
        di = info(doc)
        text = di.text if text is None else text
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
        drafts = [d for d in one_per_statement(drafts, di) if _is_statement(doc, d)]
        chains = _chains(attributor, drafts)
        claims = [_claim(doc, d, index, chains.get(id(d), [])) for d in drafts]
        result = TagResult(tagger=self._info(detected), entities=_entities(index), claims=claims)
        return validate_spans(di.text, result)


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


def _is_statement(doc: Doc, d: Draft) -> bool:
    """A claim is a statement: not a heading or listing line, and an unattributed quotation needs a finite
    verb (not a title or a slogan)."""
    if d.kind != "direct_quote" and is_heading(info(doc).text, d.start, d.end):
        return False
    if d.kind != "direct_quote" or d.speaker is not None or d.cue is not None:
        return True
    return any(t.tag_ in _FINITE_TAGS for t in _tokens(doc, d.start, d.end))


def is_sentence(tokens: list) -> bool:
    """A sentence, not a listing or navigation line: a finite verb, and not mostly capitalised words
    ("Apple AirPods 2 with Wireless Charging Case", "Home | World | Business")."""
    if not any(t.tag_ in _FINITE_TAGS for t in tokens):
        return False
    words = [t for t in tokens if t.is_alpha]
    capitalised = sum(1 for t in words if t.text[:1].isupper())
    return not (len(words) >= 4 and capitalised > 0.6 * len(words))


def _assertions(doc: Doc, drafts: list[Draft], index: EntityIndex) -> list[Draft]:
    """Unattributed statements: sentences (or the clause after an attribution: "X said Y, but Z") that
    name something, count something or report an event, and score enough check-worthiness."""
    out: list[Draft] = []
    di = info(doc)
    text = di.text
    attributed = [d for d in drafts if d.kind != "assertion"]
    for s, e, _ in sentence_units(doc):
        s, e = trim(text, s, e)
        if e <= s or text[s:e].rstrip().endswith("?") or is_heading(text, s, e):
            continue
        if any(d.start < e and s < d.end and (min(d.end, e) - max(d.start, s)) > 0.6 * (e - s) for d in attributed):
            s = _after_attribution(text, s, e, attributed)  # "..., but it is impossible to know whether ..."
            if s is None:
                continue
        elif any(d.cue is not None and s <= d.cue.idx < e and not d.verb_phrase for d in attributed):
            s = _after_attribution(text, s, e, attributed)
            if s is None:
                continue  # the sentence is an attribution; its claim is already there
        toks = _tokens(doc, s, e)
        types = claim_types(toks)
        words = len(text[s:e].split())
        if words < ASSERTION_MIN_WORDS and not (words >= 4 and "quantity" in types):
            continue
        if not is_sentence(toks):
            continue
        about = _about(index, toks)
        if not FACTUAL_TYPES.intersection(types) and "quantity" not in types and not about:
            continue
        best = checkworthiness(text=text[s:e], types=types, about=about, kind="assertion",
                               has_named_speaker=False, certainty="high")
        if best < ASSERTION_MIN_SCORE:
            continue  # certainty can only lower the score: skip reading it
        certainty = certainty_of_tokens(toks, text[s:e])
        score = checkworthiness(text=text[s:e], types=types, about=about, kind="assertion",
                                has_named_speaker=False, certainty=certainty.level)
        if score >= ASSERTION_MIN_SCORE:
            out.append(Draft(s, e, "assertion", cached=(toks, types, about, certainty)))
    return out


def _after_attribution(text: str, s: int, e: int, attributed: list[Draft]) -> int | None:
    """Where the sentence's own statement starts after the attributed claims and cues in it, when a whole
    clause is left ("Both men claimed X - but it is impossible to know Y"); None when nothing is left."""
    covered = max([d.end for d in attributed if d.start < e and s < d.end]
                  + [d.cue.idx + len(d.cue.text) for d in attributed if d.cue is not None and s <= d.cue.idx < e]
                  + [s])
    m = _CLAUSE_START.match(text, covered, e)
    if m is None:
        return None
    start = m.end()
    return start if len(text[start:e].split()) >= ASSERTION_MIN_WORDS else None


# the rest of a sentence is a statement of its own only after a clause boundary and a conjunction
_CLAUSE_START = re.compile(r"[\s\"”’']*(?:[,;:]|\s[–—-])\s*(?:but|and|while|although|though|yet|so|whereas)?\s+", re.IGNORECASE)


def is_heading(text: str, start: int, end: int) -> bool:
    """A whole line that does not end like a sentence: a heading, a caption, a listing entry."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    line = text[line_start:line_end].strip()
    return bool(line) and line[-1] not in _SENTENCE_END and len(line.split()) < 25


_SENTENCE_END = frozenset(".!?…\"”’')»:;")


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
        chain += [(k, rel) for k, rel in article if k != key and (k, rel) not in chain]  # not the speaker itself
        out[id(d)] = chain
    return out


def _claim(doc: Doc, d: Draft, index: EntityIndex, chain: list[tuple[str, str]]) -> Claim:
    text = info(doc).text
    claim_text = text[d.start:d.end]
    if d.cached is not None and d.kind == "assertion":
        toks, types, about, certainty = d.cached
    else:
        toks = _tokens(doc, d.start, d.end)
        types = claim_types(toks)
        about = _about(index, toks)
        said = toks
        if d.kind == "direct_quote" and len(d.quotes) > 1:  # the speaker's words, not the attribution between
            said = [t for t in toks if any(s <= t.idx < e for s, e in d.quotes)]
        certainty = certainty_of_tokens(said, claim_text, cue_verb=d.cue, question=d.question)
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
    relay = d.relayed_by
    if relay is not None and (relay.name or relay.mention):
        cluster = index.clusters.get(relay.key) if relay.key else None
        link = SourceLink(name=cluster.name if cluster else (relay.name or relay.mention),
                          entity_id=cluster.id if cluster else None, relation="relayed_by")
        if all(x.entity_id != link.entity_id or x.name != link.name for x in source_chain):
            source_chain.insert(0, link)
    score = checkworthiness(text=claim_text, types=types, about=about, kind=d.kind,
                            has_named_speaker=speaker is not None and speaker.entity_id is not None,
                            certainty=certainty.level)
    quotes = [QuoteSpan(start=s, end=e) for s, e in d.quotes]
    return Claim(id=claim_id(claim_text, d.start, d.end), text=claim_text, start=d.start, end=d.end, kind=d.kind,
                 quotes=quotes, speaker=speaker, cue=cue, source_chain=source_chain, types=types, certainty=certainty,
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


__all__ = ["TAGGER_VERSION", "Tagger", "aliases", "claim_id", "get_tagger", "is_english"]
