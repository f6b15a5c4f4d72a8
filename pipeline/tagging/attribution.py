"""Attributed statements: direct quotes, indirect speech, "according to", passive attribution,
reporting nouns and "in a statement"; plus source chains (origin / relayed_by / interview_with).

Rules work on the dependency parse: a reporting verb's complement clause is the claim and its
subject (or passive agent) is the speaker; a quotation belongs to the reporting verb that governs
it, else the nearest one in its sentence, else a colon introduction, else the speaker of the
quotation it continues.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from pipeline.tagging.docinfo import info
from pipeline.tagging.entities import EntityIndex
from pipeline.tagging.lexicon import COMPLEMENT_ONLY, PASSIVE_ANAPHORS, REPORTING_NOUNS, REPORTING_VERBS
from pipeline.tagging.quotes import Quote, find_quotes
from pipeline.tagging.speakers import ResolvedSpeaker, SpeakerResolver, subject_of

_TRIM = set(" \t\n\r,;:-–—\"“”«»'")
_VP_CUES = frozenset("accuse deny urge warn criticise criticize condemn blame praise denounce reject dismiss".split())
_STATEMENT_NOUNS = frozenset("statement interview post tweet remarks briefing address speech letter".split())


@dataclass
class Draft:
    start: int
    end: int
    kind: str
    cue: Token | None = None
    speaker_token: Token | None = None
    quote: Quote | None = None
    carry: Draft | None = None
    speaker: ResolvedSpeaker | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (cluster key, relation)
    verb_phrase: bool = False  # "accused X of Y": the claim is the verb phrase, not the sentence's content
    cached: tuple | None = None  # (tokens, types, about, certainty) already computed for an assertion


@dataclass
class Link:
    key: str
    relation: str
    cue: Token  # the verb the link hangs on (speaker side), or None for the article chain
    article_level: bool = False


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and (text[end - 1] in _TRIM or text[end - 1] == "."):
        end -= 1
    return start, end


def sentence_units(doc: Doc) -> list[tuple[int, int, Span]]:
    """Sentences cut at line breaks, as trimmed char spans."""
    di = info(doc)
    text = di.text
    units: list[tuple[int, int, Span]] = []
    for sent in di.sents:
        s, e = sent.start_char, sent.end_char
        pos = s
        for piece in text[s:e].split("\n"):
            ps, pe = pos, pos + len(piece)
            pos = pe + 1
            a, b = ps, pe
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                units.append((a, b, sent))
    return units


class Attributor:
    def __init__(self, doc: Doc, index: EntityIndex) -> None:
        self.doc = doc
        self.info = info(doc)
        self.text = self.info.text
        self.index = index
        self.quotes = find_quotes(self.text)
        self.quoted = bytearray(len(self.text) + 1)
        for q in self.quotes:
            self.quoted[q.start:q.end] = b"\x01" * (q.end - q.start)
        self.starts = [t.idx for t in self.info.tokens]
        self._resolver = None
        self._links: list[Link] | None = None
        self.units = sentence_units(doc)
        # paragraphs are non-blank lines; a char in a blank run belongs to the line before
        self.para_starts = [m.start() for m in re.finditer(r"[^\n]+", self.text)] or [0]
        if self.para_starts[0] != 0:
            self.para_starts.insert(0, 0)

    # helpers
    def _tokens_in(self, start: int, end: int) -> list[Token]:
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return self.info.tokens[lo:hi]

    def para_of(self, char: int) -> int:
        return max(0, bisect.bisect_right(self.para_starts, char) - 1)

    def in_quote(self, tok: Token) -> bool:
        return bool(self.quoted[tok.idx])

    def span_of(self, lo: int, hi: int) -> tuple[int, int]:
        """Char span of tokens [lo, hi], trimmed of 'that', punctuation and quote marks."""
        while lo <= hi and (self.doc[lo].dep_ == "mark" and self.doc[lo].lower_ in ("that", "whether", "if") or self.doc[lo].is_punct):
            lo += 1
        if lo > hi:
            return 0, 0
        return trim(self.text, self.doc[lo].idx, self.doc[hi].idx + len(self.doc[hi].text))

    def quoted_share(self, start: int, end: int) -> float:
        if end <= start:
            return 0.0
        return sum(self.quoted[start:end]) / (end - start)

    def is_cue(self, tok: Token) -> bool:
        return tok.lemma_.lower() in REPORTING_VERBS and tok.pos_ in ("VERB", "AUX") and not self.in_quote(tok)

    # rules
    def drafts(self) -> list[Draft]:
        drafts: list[Draft] = []
        drafts += self._indirect()
        drafts += self._according()
        drafts += self._passive_anaphora()
        drafts += self._reporting_nouns()
        drafts += self._statement_pp(drafts)
        drafts += self._verb_phrase_claims(drafts)
        quote_drafts = self._quotes()
        kept = [d for d in drafts if self.quoted_share(d.start, d.end) < 0.5]
        kept = _dedupe(kept)
        return sorted(quote_drafts + kept, key=lambda d: (d.start, d.end))

    def _quotes(self) -> list[Draft]:
        out: list[Draft] = []
        by_quote: dict[int, Draft] = {}
        for q in self.quotes:
            d = Draft(q.start, q.end, "direct_quote", quote=q)
            toks = self._tokens_in(q.start, q.end)
            cue = self._governing_cue(toks, q) or self._nearest_cue(q) or self._colon_cue(q)
            if cue is not None and q.continues is not None and id(q.continues) in by_quote and self._starts_paragraph(q) \
                    and cue.idx < q.start:
                cue = None  # a continued quotation keeps its speaker; a cue before it belongs elsewhere
            if cue is not None:
                d.cue = cue
                d.speaker_token = self._speaker_token(cue)
            elif q.continues is not None and id(q.continues) in by_quote:
                d.carry = by_quote[id(q.continues)]
            elif out and out[-1].kind == "direct_quote" and (
                self.para_of(out[-1].start) == self.para_of(q.start)
                or (self._starts_paragraph(q) and self.para_of(out[-1].start) == self.para_of(q.start) - 1)
            ):
                d.carry = out[-1]
            by_quote[id(q)] = d
            out.append(d)
        return out

    def _speaker_token(self, cue: Token) -> Token | None:
        return subject_of(cue)

    def _starts_paragraph(self, q: Quote) -> bool:
        p = self.para_starts[self.para_of(q.start)]
        return not self.text[p:q.start].strip(" \t\"“«")

    def _governing_cue(self, toks: list[Token], q: Quote) -> Token | None:
        if not toks:
            return None
        para = self.para_of(q.start)
        inside = {t.i for t in toks}
        best: tuple[int, Token] | None = None
        for t in toks:
            if t.head.i in inside:
                continue
            anc, steps = t.head, 0
            while steps < 4:
                if anc.i not in inside and (self.is_cue(anc) or anc.lower_ == "according"):
                    if self.para_of(anc.idx) != para and not (
                        self.para_of(anc.idx) == para - 1 and self._colon_cue(q) is anc
                    ):
                        break  # the parser joined paragraphs; a cue there is not this quote's
                    if best is None or steps < best[0]:
                        best = (steps, anc)
                    break
                if anc.head is anc:
                    break
                anc, steps = anc.head, steps + 1
        return best[1] if best else None

    def _nearest_cue(self, q: Quote) -> Token | None:
        para = self.para_of(q.start)
        sents = {self.info.sent_of[t.i] for t in self._tokens_in(q.start, q.end)}
        best: tuple[int, Token] | None = None
        lo = bisect.bisect_left(self.starts, self.para_starts[para])
        hi_char = self.para_starts[para + 1] if para + 1 < len(self.para_starts) else len(self.text)
        for i in range(lo, len(self.doc)):
            t = self.doc[i]
            if t.idx >= hi_char:
                break
            if self.info.sent_of[t.i] not in sents and not self._adjacent_sentence(t, q):
                continue
            if not (self.is_cue(t) or (t.lower_ == "according" and not self.in_quote(t))):
                continue
            if t.lemma_.lower() in COMPLEMENT_ONLY:
                continue
            dist = q.start - t.idx if t.idx < q.start else t.idx - q.end
            if dist <= 200 and (best is None or dist < best[0]):
                best = (dist, t)
        return best[1] if best else None

    def _adjacent_sentence(self, t: Token, q: Quote) -> bool:
        """The attribution after a quote that the parser split off: `"...," the minister said.`"""
        sent = self.info.sent(t.i)
        return 0 <= sent.start_char - q.end <= 3 and len(sent) <= 12

    def _colon_cue(self, q: Quote) -> Token | None:
        j = q.start - 1
        while j >= 0 and (self.text[j].isspace() or self.text[j] in "\"“«"):
            j -= 1
        if j < 0 or self.text[j] != ":":
            return None
        k = bisect.bisect_right(self.starts, j) - 1
        if k < 0:
            return None
        sent = self.info.sent(k)
        cues = [t for t in sent if t.idx < j and self.is_cue(t)]
        return cues[-1] if cues else None

    def _indirect(self) -> list[Draft]:
        out: list[Draft] = []
        for v in self.info.tokens:
            if not self.is_cue(v):
                continue
            comps = [c for c in v.children if c.dep_ == "ccomp"] or _misparsed_complement(v)
            if not comps:
                continue
            comp = comps[0]
            if self.is_cue(comp) and any(c.dep_ == "agent" or (c.dep_ == "nsubjpass" and c.lower_ in PASSIVE_ANAPHORS)
                                         for c in comp.children):
                continue  # "This was stated by X, Y reports": an attribution, not a claim
            start, end = self.span_of(comp.left_edge.i, comp.right_edge.i)
            if len(self.text[start:end].split()) < 3:
                continue
            speaker = self._speaker_token(v)
            passive = any(c.dep_ == "nsubjpass" for c in v.children) and speaker is None
            kind = "reported" if passive else "indirect"
            out.append(Draft(start, end, kind, cue=v, speaker_token=speaker))
        return out

    def _according(self) -> list[Draft]:
        out: list[Draft] = []
        for t in self.info.tokens:
            if t.lower_ != "according" or self.in_quote(t) or t.i + 1 >= len(self.doc) or self.doc[t.i + 1].lower_ != "to":
                continue
            sent = self.info.sent(t.i)
            p_lo, p_hi = t.left_edge.i, t.right_edge.i
            if p_hi <= t.i + 1:
                p_hi = t.i + 2
            before = self.span_of(sent.start, p_lo - 1) if p_lo > sent.start else (0, 0)
            after = self.span_of(p_hi + 1, sent.end - 1) if p_hi + 1 < sent.end else (0, 0)
            start, end = after if (after[1] - after[0]) >= (before[1] - before[0]) else before
            if len(self.text[start:end].split()) < 3:
                continue
            out.append(Draft(start, end, "reported", cue=t, speaker_token=subject_of(t)))
        return out

    def _passive_anaphora(self) -> list[Draft]:
        """"This was stated by X": the previous sentences (or paragraph) are X's."""
        out: list[Draft] = []
        for v in self.info.tokens:
            if not self.is_cue(v):
                continue
            subj = next((c for c in v.children if c.dep_ == "nsubjpass"), None)
            agent = next((c for c in v.children if c.dep_ == "agent"), None)
            if subj is None or agent is None or subj.lower_ not in PASSIVE_ANAPHORS:
                continue
            if any(c.dep_ == "ccomp" for c in v.children):
                continue
            speaker = next((c for c in agent.children if c.dep_ == "pobj"), None)
            v_unit = next((u for u in self.units if u[0] <= v.idx < u[1]), None)
            if v_unit is None:
                continue
            para = self.para_of(v_unit[0])
            first_in_para = self.para_starts[para] + len(self.text[self.para_starts[para]:v_unit[0]]) - len(self.text[self.para_starts[para]:v_unit[0]].lstrip()) == v_unit[0]
            if first_in_para:
                prev_paras = [self.para_of(u[0]) for u in self.units if u[1] <= v_unit[0]]
                target = max(prev_paras) if prev_paras else None
                units = [u for u in self.units if target is not None and self.para_of(u[0]) == target]
            else:
                units = [u for u in self.units if self.para_of(u[0]) == para and u[1] <= v_unit[0]][-1:]
            for s, e, _ in units:
                s2, e2 = trim(self.text, s, e)
                if e2 > s2:
                    out.append(Draft(s2, e2, "reported", cue=v, speaker_token=speaker))
        return out

    def _reporting_nouns(self) -> list[Draft]:
        out: list[Draft] = []
        for n in self.info.tokens:
            if n.lemma_.lower() not in REPORTING_NOUNS or n.pos_ != "NOUN" or self.in_quote(n):
                continue
            clause = next((c for c in n.children if c.dep_ in ("acl", "ccomp") and any(
                x.dep_ == "mark" and x.lower_ == "that" for x in c.children)), None)
            if clause is None:
                continue
            start, end = self.span_of(clause.left_edge.i, clause.right_edge.i)
            if len(self.text[start:end].split()) < 3:
                continue
            speaker: Token | None = n
            if not any(c.dep_ == "poss" or (c.dep_ == "prep" and c.lower_ in ("from", "by", "of")) for c in n.children):
                if n.dep_ in ("dobj", "attr") and n.head.pos_ in ("VERB", "AUX"):
                    speaker = subject_of(n.head)
            out.append(Draft(start, end, "reported", cue=n, speaker_token=speaker))
        return out

    def _statement_pp(self, existing: list[Draft]) -> list[Draft]:
        """"In a statement, the ministry condemned the attack": the sentence is the ministry's."""
        out: list[Draft] = []
        for n in self.info.tokens:
            if n.lemma_.lower() not in _STATEMENT_NOUNS or n.dep_ != "pobj" or n.head.lower_ != "in" or self.in_quote(n):
                continue
            verb = n.head.head
            if verb.pos_ not in ("VERB", "AUX") or any(c.dep_ == "ccomp" for c in verb.children):
                continue
            if any(d.cue is not None and d.cue.i == verb.i for d in existing):
                continue  # "This was stated by X in an interview": the attribution, already used
            subj = subject_of(verb)
            if subj is None:
                continue
            unit = next((u for u in self.units if u[0] <= n.idx < u[1]), None)
            if unit is None:
                continue
            s, e = trim(self.text, unit[0], unit[1])
            if any(d.start < e and s < d.end for d in existing):
                continue
            out.append(Draft(s, e, "reported", cue=n, speaker_token=subj))
        return out

    def _verb_phrase_claims(self, existing: list[Draft]) -> list[Draft]:
        """"Esper accused China of coercion", "the UK urged an end to the violence": no clause, so the
        verb phrase is the claim."""
        out: list[Draft] = []
        for v in self.info.tokens:
            if v.lemma_.lower() not in _VP_CUES or v.pos_ != "VERB" or self.in_quote(v):
                continue
            if any(c.dep_ == "ccomp" for c in v.children) or any(d.cue is not None and d.cue.i == v.i for d in existing):
                continue
            comps = [c for c in v.children if c.dep_ in ("dobj", "prep", "xcomp", "dative") and c.i > v.i]
            if not comps:
                continue
            hi = max(c.right_edge.i for c in comps)
            start, end = trim(self.text, v.idx, self.doc[hi].idx + len(self.doc[hi].text))
            if len(self.text[start:end].split()) < 4:
                continue
            out.append(Draft(start, end, "reported", cue=v, speaker_token=subject_of(v), verb_phrase=True))
        return out

    # source chains
    def links(self) -> list[Link]:
        if self._links is None:
            self._links = self._find_links()
        return self._links

    def _find_links(self) -> list[Link]:
        out: list[Link] = []
        for t in self.info.tokens:
            if self.in_quote(t):
                continue
            low = t.lemma_.lower()
            if low == "interview":
                with_ = next((c for c in t.children if c.dep_ == "prep" and c.lower_ == "with"), None)
                target = next((c for c in with_.children if c.dep_ == "pobj"), None) if with_ is not None else None
                verb = _governing_verb(t)
                if target is not None and verb is not None:
                    out.append(Link(self._key(target), "interview_with", verb))
            elif low == "tell" and t.pos_ == "VERB":
                target = next((c for c in t.children if c.dep_ in ("dative", "dobj") and c.pos_ == "PROPN"), None)
                if target is not None:
                    out.append(Link(self._key(target), "interview_with", t))
            elif (low == "reference" and t.head.lower_ == "with") or low in ("cite", "quote", "refer"):
                if low == "reference":
                    to = next((c for c in t.children if c.lower_ == "to"), None)
                    target = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
                elif low == "refer":
                    to = next((c for c in t.children if c.lower_ == "to"), None)
                    target = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
                else:
                    target = next((c for c in t.children if c.dep_ == "dobj"), None)
                if target is None or target.pos_ != "PROPN":
                    continue
                out.append(Link(self._key(target), "origin", t, article_level=True))
                verb = _governing_verb(t)
                if verb is not None:
                    relay = subject_of(verb)
                    if relay is not None and relay.pos_ == "PROPN":
                        out.append(Link(self._key(relay), "relayed_by", verb, article_level=True))
        return [x for x in out if x.key]

    def _key(self, tok: Token) -> str:
        key = self.index.token_cluster[tok.i]
        if key:
            return key
        if self._resolver is None:
            self._resolver = SpeakerResolver(self.doc, self.index)
        if tok.pos_ == "PROPN" and tok.text[:1].isupper():
            sp = self._resolver.entity_for_name(tok, hint="ORG")  # a source: an outlet or agency
        else:
            sp = self._resolver.resolve(tok, tok.idx)
        return sp.key if sp is not None and sp.key else ""


def _misparsed_complement(v: Token) -> list[Token]:
    """"told reporters at a news conference that officials began ...": the parser attached the
    that-clause to a noun as a relative clause; it has its own subject, so it is the complement."""
    for t in v.subtree:
        if t.dep_ != "relcl" or t.i < v.i:
            continue
        that = next((c for c in t.children if c.lower_ == "that" and c.i == t.left_edge.i), None)
        subj = next((c for c in t.children if c.dep_ in ("nsubj", "nsubjpass") and c.lower_ not in ("that", "which", "who")), None)
        if that is not None and subj is not None:
            return [t]
    return []


def _governing_verb(tok: Token) -> Token | None:
    anc = tok.head
    for _ in range(6):
        if anc.pos_ in ("VERB", "AUX"):
            return anc
        if anc.head is anc:
            return None
        anc = anc.head
    return None


def _dedupe(drafts: list[Draft]) -> list[Draft]:
    """Keep one draft per span; when spans nest, keep the one with a speaker, then the longer."""
    drafts = sorted(drafts, key=lambda d: (d.start, -(d.end - d.start)))
    out: list[Draft] = []
    for d in drafts:
        clash = next((o for o in out if o.start < d.end and d.start < o.end and (
            (min(o.end, d.end) - max(o.start, d.start)) / max(1, o.end - o.start, d.end - d.start) > 0.8)), None)
        if clash is None:
            out.append(d)
        elif clash.speaker_token is None and d.speaker_token is not None:
            out[out.index(clash)] = d
    return out
