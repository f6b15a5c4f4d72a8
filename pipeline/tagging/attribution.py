"""Attributed statements: direct quotes, indirect speech, "according to", passive attribution,
reporting nouns and "in a statement"; plus source chains (origin / relayed_by / interview_with).

Rules work on the dependency parse: a reporting verb's complement clause is the claim and its
subject (or passive agent) is the speaker; a quotation belongs to the reporting verb that governs
it, else the nearest one in its sentence, else a colon introduction, else the speaker of the
quotation it continues.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from pipeline.tagging.docinfo import info
from pipeline.tagging.entities import EntityIndex
from pipeline.tagging.lexicon import COMPLEMENT_ONLY, PASSIVE_ANAPHORS, REPORTING_NOUNS, REPORTING_VERBS
from pipeline.tagging.quotes import Quote, find_quotes
from pipeline.tagging.speakers import ResolvedSpeaker, SpeakerResolver, subject_of

_TRIM = set(" \t\n\r,;:-–—\"“”«»'")
_VP_CUES = frozenset("accuse deny urge warn criticise criticize condemn blame praise denounce reject dismiss".split())
# verbs that frame someone else's words without reporting them: 'X called Y a "threat"', 'X described it as
# "absurd"', 'X introduced Y as "..."': a quotation they govern is their subject's words
_LINK_LEMMAS = frozenset({"interview", "tell", "reference", "cite", "quote", "refer"})
_AS_CUES = frozenset("describe label brand characterize characterise".split())
_FRAMING = frozenset("call describe introduce dub label brand term hail remember praise slam blast decry".split())
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
    quotes: list[tuple[int, int]] = field(default_factory=list)  # verbatim parts of the span
    question: bool = False  # an indirect question ("asked whether ..."): nothing is asserted
    relayed_by: ResolvedSpeaker | None = None  # who passes the speaker's quoted words on ("..., police said")


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
        self.starts = self.info.starts
        self._resolver = None
        self._links: list[Link] | None = None
        self.framed: list[Draft] = []  # sentences framing a quotation with "called", "described as", ...
        self.units = sentence_units(doc)
        lemmas = self.info.lemmas
        self.cue_flags = bytearray(len(self.info.tokens))  # reporting verbs outside quotations, read once
        for i, lemma in enumerate(lemmas):
            if lemma in REPORTING_VERBS:
                t = self.info.tokens[i]
                if t.pos_ in ("VERB", "AUX") and not self.quoted[t.idx] and not _discourse_marker(t):
                    self.cue_flags[i] = 1
        self.cue_tokens = [self.info.tokens[i] for i, f in enumerate(self.cue_flags) if f]
        according = [t for t in self._with(self.info.lowers, {"according"}) if not self.quoted[t.idx]]
        self.cue_or_according = sorted(self.cue_tokens + according, key=lambda t: t.i)
        self.para_starts = self.info.para_starts

    # helpers
    def _tokens_in(self, start: int, end: int) -> list[Token]:
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return self.info.tokens[lo:hi]

    def para_of(self, char: int) -> int:
        return self.info.para_of(char)

    def in_quote(self, tok: Token) -> bool:
        return bool(self.quoted[tok.idx])

    def span_of(self, lo: int, hi: int) -> tuple[int, int]:
        """Char span of tokens [lo, hi], trimmed of 'that', punctuation and quote marks."""
        while lo <= hi and (self.doc[lo].dep_ == "mark" and self.doc[lo].lower_ in ("that", "whether", "if") or self.doc[lo].is_punct
                            or (self.doc[lo].lower_ == "that" and self.doc[lo].tag_ == "IN" and lo < hi)):
            lo += 1
        if lo > hi:
            return 0, 0
        return trim(self.text, self.doc[lo].idx, self.doc[hi].idx + len(self.doc[hi].text))

    def quoted_share(self, start: int, end: int) -> float:
        if end <= start:
            return 0.0
        return sum(self.quoted[start:end]) / (end - start)

    def _with(self, words: list[str], wanted: frozenset[str] | set[str]) -> list[Token]:
        """The tokens whose word (from a per-Doc list) is one of `wanted`: one cheap pass, no Token reads."""
        tokens = self.info.tokens
        return [tokens[i] for i, w in enumerate(words) if w in wanted]

    def is_cue(self, tok: Token) -> bool:
        return bool(self.cue_flags[tok.i])

    def clip_to_paragraph(self, start: int, end: int, anchor: int) -> tuple[int, int]:
        """A claim stays in the paragraph of its cue (the parser sometimes joins a list's lines)."""
        para = self.para_of(anchor)
        lo = self.info.para_start(para)
        hi = self.para_starts[para + 1] if para + 1 < len(self.para_starts) else len(self.text)
        if start >= lo and end <= hi:
            return start, end
        return trim(self.text, max(start, lo), min(end, hi))

    # rules
    def drafts(self) -> list[Draft]:
        drafts: list[Draft] = []
        drafts += self._indirect()
        drafts += self._according()
        drafts += self._passive_anaphora()
        drafts += self._reporting_nouns()
        drafts += self._statement_pp(drafts)
        drafts += self._parenthetical(drafts)
        drafts += self._verb_phrase_claims(drafts)
        quote_drafts = self._quotes()
        drafts += self.framed
        kept = [d for d in drafts if self.quoted_share(d.start, d.end) < 0.5]
        kept = _dedupe(kept)
        return sorted(quote_drafts + kept, key=lambda d: (d.start, d.end))

    def _quotes(self) -> list[Draft]:
        out: list[Draft] = []
        by_quote: dict[int, Draft] = {}
        for q in self.quotes:
            d = Draft(q.start, q.end, "direct_quote", quote=q, quotes=[(q.start, q.end)])
            toks = self._tokens_in(q.start, q.end)
            cue = self._governing_cue(toks, q) or self._nearest_cue(q) or self._colon_cue(q)
            if cue is not None and q.continues is not None and id(q.continues) in by_quote and self._starts_paragraph(q) \
                    and cue.idx < q.start:
                cue = None  # a continued quotation keeps its speaker; a cue before it belongs elsewhere
            if cue is not None:
                d.cue = cue
                d.speaker_token = self._speaker_token(cue)
                if cue.lemma_.lower() in _FRAMING and not self.is_cue(cue):
                    framed = self._framed_statement(cue, q)  # 'X called the budget "a betrayal"': X's sentence
                    if framed is not None:
                        self.framed.append(framed)
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

    def _framed_statement(self, verb: Token, q: Quote) -> Draft | None:
        unit = next((u for u in self.units if u[0] <= verb.idx < u[1]), None)
        if unit is None or not (unit[0] <= q.start and q.end <= unit[1]):
            return None
        s, e = trim(self.text, unit[0], unit[1])
        return Draft(s, e, "reported", cue=verb, speaker_token=self._speaker_token(verb))

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
                if anc.i not in inside and (self.is_cue(anc) or anc.lower_ == "according" or (
                        anc.lemma_.lower() in _FRAMING and anc.pos_ == "VERB" and subject_of(anc) is not None
                        and not self.in_quote(anc))):
                    if self.para_of(anc.idx) != para and not (
                        self.para_of(anc.idx) == para - 1 and self._colon_cue(q) is anc
                    ):
                        break  # the parser joined paragraphs; a cue there is not this quote's
                    if best is None or steps < best[0]:
                        best = (steps, anc)
                    break
                if anc.head is anc or (anc.i not in inside and anc.pos_ in ("NOUN", "PROPN")
                                       and anc.lemma_.lower() not in REPORTING_NOUNS):
                    break  # the quotation modifies a noun ("his 'tough on China' stance"): no speech of the verb
                anc, steps = anc.head, steps + 1
        return best[1] if best else None

    def _nearest_cue(self, q: Quote) -> Token | None:
        para = self.para_of(q.start)
        sents = {self.info.sent_of[t.i] for t in self._tokens_in(q.start, q.end)}
        best: tuple[int, Token] | None = None
        lo_char = self.para_starts[para]
        hi_char = self.para_starts[para + 1] if para + 1 < len(self.para_starts) else len(self.text)
        for t in self.cue_or_according:
            if t.idx < lo_char:
                continue
            if t.idx >= hi_char:
                break
            if self.info.sent_of[t.i] not in sents and not self._adjacent_sentence(t, q):
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
        for v in self.cue_tokens:
            comps = [c for c in v.children if c.dep_ == "ccomp"] or _misparsed_complement(v)
            if not comps:
                continue
            comp = comps[0]
            if self.is_cue(comp) and any(c.dep_ == "agent" or (c.dep_ == "nsubjpass" and c.lower_ in PASSIVE_ANAPHORS)
                                         for c in comp.children):
                continue  # "This was stated by X, Y reports": an attribution, not a claim
            start, end = self.span_of(comp.left_edge.i, comp.right_edge.i)
            start, end = self.clip_to_paragraph(start, end, v.idx)
            if len(self.text[start:end].split()) < 3:
                continue
            speaker = self._speaker_token(v)
            if speaker is not None and self.para_of(speaker.idx) != self.para_of(v.idx):
                continue  # a "subject" on another line: a listing the parser read as a sentence
            passive = any(c.dep_ == "nsubjpass" for c in v.children) and speaker is None
            kind = "reported" if passive else "indirect"
            question = any(c.dep_ == "mark" and c.lower_ in ("whether", "if") for c in comp.children) or (
                comp.left_edge.tag_ in ("WDT", "WP", "WRB") and v.lemma_.lower() in ("ask", "wonder"))
            out.append(Draft(start, end, kind, cue=v, speaker_token=speaker, question=question))
        return out

    def _according(self) -> list[Draft]:
        out: list[Draft] = []
        for t in self._with(self.info.lowers, {"according"}):
            if self.in_quote(t) or t.i + 1 >= len(self.doc) or self.doc[t.i + 1].lower_ != "to":
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
        for v in self.cue_tokens:
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
        for n in self._with(self.info.lemmas, REPORTING_NOUNS):
            if n.pos_ != "NOUN" or self.in_quote(n):
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
        for n in self._with(self.info.lemmas, _STATEMENT_NOUNS):
            if n.dep_ != "pobj" or n.head.lower_ != "in" or self.in_quote(n):
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
            if unit is None or not (unit[0] <= subj.idx < unit[1]):
                continue  # the parser hung the phrase on another sentence's verb
            s, e = trim(self.text, unit[0], unit[1])
            if any(d.start < e and s < d.end for d in existing):
                continue
            out.append(Draft(s, e, "reported", cue=n, speaker_token=subj))
        return out

    def _parenthetical(self, existing: list[Draft]) -> list[Draft]:
        """"While some carry two phones, Cook said, most use one": a reporting clause set off by commas
        inside a sentence makes the whole sentence the speaker's."""
        out: list[Draft] = []
        toks = self.info.tokens
        for v in self.cue_tokens:
            if v.lemma_.lower() in COMPLEMENT_ONLY:
                continue
            subj = subject_of(v)
            if subj is None or subj.head.i != v.i:
                continue
            lo, hi = (min(subj.left_edge.i, v.i), max(subj.right_edge.i, v.i))
            if lo < 1 or hi + 1 >= len(toks) or toks[hi + 1].text != "," or not (
                    toks[lo - 1].text == "," or (toks[lo - 1].is_quote and lo > 1 and toks[lo - 2].text == ",")):
                continue
            unit = next((u for u in self.units if u[0] <= v.idx < u[1]), None)
            if unit is None:
                continue
            before = self.text[unit[0]:toks[lo].idx]
            after = self.text[toks[hi + 1].idx + 1:unit[1]]
            if len(before.split()) < 3 or len(after.split()) < 3 or self.quoted_share(unit[0], unit[1]) > 0.8:
                continue
            s, e = trim(self.text, unit[0], unit[1])
            out.append(Draft(s, e, "indirect", cue=v, speaker_token=subj))
        return out

    def _verb_phrase_claims(self, existing: list[Draft]) -> list[Draft]:
        """"Esper accused China of coercion", "the UK urged an end to the violence": no clause, so the
        verb phrase is the claim."""
        out: list[Draft] = []
        lemmas = self.info.lemmas
        candidates = [self.info.tokens[i] for i, lemma in enumerate(lemmas) if lemma in _VP_CUES or lemma in _AS_CUES]
        for v in candidates:
            if v.lemma_.lower() not in _VP_CUES or v.pos_ != "VERB" or self.in_quote(v):
                continue
            if any(c.dep_ == "ccomp" for c in v.children) or any(d.cue is not None and d.cue.i == v.i for d in existing):
                continue
            comps = [c for c in v.children if c.dep_ in ("dobj", "prep", "xcomp", "dative") and c.i > v.i]
            if not comps:
                continue
            hi = max(c.right_edge.i for c in comps)
            lo = v.i
            passive = next((c for c in v.children if c.dep_ == "nsubjpass" and c.i < v.i), None)
            if passive is not None:
                lo = passive.left_edge.i  # "X has been accused of ...": the whole clause, no speaker named
            start, end = trim(self.text, self.doc[lo].idx, self.doc[hi].idx + len(self.doc[hi].text))
            if len(self.text[start:end].split()) < 4:
                continue
            out.append(Draft(start, end, "reported", cue=v, speaker_token=subject_of(v), verb_phrase=True))
        for v in candidates:  # 'described the idea as "certainly absurd"'
            if v.lemma_.lower() not in _AS_CUES or v.pos_ != "VERB" \
                    or self.in_quote(v) or any(d.cue is not None and d.cue.i == v.i for d in existing):
                continue
            as_ = next((c for c in v.children if c.dep_ == "prep" and c.lower_ == "as" and c.i > v.i), None)
            if as_ is None or subject_of(v) is None:
                continue
            start, end = trim(self.text, v.idx, self.doc[as_.right_edge.i].idx + len(self.doc[as_.right_edge.i].text))
            if len(self.text[start:end].split()) >= 4:
                out.append(Draft(start, end, "reported", cue=v, speaker_token=subject_of(v), verb_phrase=True))
        return out

    # source chains
    def links(self) -> list[Link]:
        if self._links is None:
            self._links = self._find_links()
        return self._links

    def _find_links(self) -> list[Link]:
        out: list[Link] = []
        for t in self._with(self.info.lemmas, _LINK_LEMMAS):
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


def _discourse_marker(tok: Token) -> bool:
    """"That said, ...", "Having said that", "Which is not to say that ...", "needless to say": no report."""
    if tok.lower_ != "said" and tok.lemma_.lower() != "say":
        return False
    doc = tok.doc
    prev = doc[tok.i - 1].lower_ if tok.i > 0 else ""
    nxt = doc[tok.i + 1].text if tok.i + 1 < len(doc) else ""
    if tok.lower_ == "said" and prev in ("that", "this") and nxt == "," and (tok.i < 2 or doc[tok.i - 2].is_punct
                                                                            or doc[tok.i - 2].is_sent_start):
        return True
    if tok.lower_ == "said" and prev == "having" or tok.lower_ == "say" and prev == "to" and tok.i >= 2 and (
            doc[tok.i - 2].lower_ in ("not", "needless", "safe", "fair")):
        return True
    return False


def _misparsed_complement(v: Token) -> list[Token]:
    """"told reporters at a news conference that officials began ...": the parser attached the
    that-clause to a noun as a relative clause; it has its own subject, so it is the complement."""
    tokens = info(v.doc).tokens
    for t in tokens[v.i + 1:v.right_edge.i + 1]:
        if t.dep_ != "relcl":
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
