"""Certainty of a claim: the speaker's commitment, on FactBank's factuality scale (Saurí and Pustejovsky)
collapsed to three levels (see docs/tagging.md for the cue lists):

- ``high``: certain. Stated as fact, positive or negative ("X was killed", "we will not accept"), or
  boosted ("certainly", "there is no doubt that"). The default: an unhedged statement is a commitment.
- ``medium``: probable. "likely", "probably", "expected to", "should", and speaker hedges such as
  "believe", "think", "suspect", "apparently", "allegedly".
- ``low``: possible. "may", "might", "could", "possibly", "perhaps", "cannot rule out", "unclear
  whether", conditionals ("if it improves", "unless"), and questions.

The weakest cue that scopes over the claim decides (a hedge under a booster is still a hedge: "there is
no doubt it may fail" is low). Longer phrases are matched first and consume their words, so "no doubt"
is never also "doubt" and "does not rule out" is one cue. Reporting verbs ("said", "claimed",
"according to") are not cues. Hedges inside relative clauses and because/when/while/... clauses do not
scope over the claim and are ignored; attributive adjectives ("the possible loss", "the alleged
victim") do not hedge the statement either.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from spacy.tokens import Token

from pipeline.tagging.docinfo import info
from pipeline.tagging.schema import Certainty

HIGH, MEDIUM, LOW = "high", "medium", "low"
_RANK = {HIGH: 2, MEDIUM: 1, LOW: 0}
_NONE = "none"  # a phrase matched only to consume its words ("could not attend": negated ability)

# (pattern, level). Order matters: earlier (longer, more specific) patterns consume their words first.
_CUES: list[tuple[str, str]] = [
    # negated boosters and negated hedges
    (r"(?:not|\w+n't|never) (?:yet |immediately |entirely |fully |publicly )?(?:clear|certain|sure|known|confirmed|obvious)"
     r"|unclear|uncertain|unknown whether|unconfirmed|unverified|remains? to be seen"
     r"|(?:(?:hard|impossible|not possible|too early|difficult|unable|not able) to|could not|couldn't|cannot|can't)"
     r" (?:independently |immediately |yet )?(?:say|tell|know|verify|confirm|predict)", LOW),
    (r"(?:not|\w+n't) (?:clearly|certainly|necessarily|definitely)|not likely|not expected to", MEDIUM),
    (r"(?:does|do|did|would|could|will|can|cannot|can't|won't|didn't|doesn't|don't|couldn't|wouldn't) ?(?:not )?"
     r"rule (?:it |this |that |anything )?out", LOW),
    (r"(?:not|\w+n't|cannot) (?:be )?(?:exclude|excluded|ruled out)|cannot exclude", LOW),
    # a limited booster is probable, not certain; discourse formulas are not hedges
    (r"almost certain(?:ly)?|nearly certain(?:ly)?|all but certain(?:ly)?|most probably", MEDIUM),
    (r"(?:it )?should be (?:noted|said|stressed|pointed out|remembered|recalled|added)", _NONE),
    # boosters, including negated doubt
    (r"there (?:is|was|can be|could be) (?:no|little) (?:doubt|question)", HIGH),
    (r"(?:no|little|without (?:a|any)?) ?doubts?", HIGH),
    (r"beyond (?:any |a )?doubt|no question that|without question", HIGH),
    (r"undoubtedly|unquestionably|indisputabl[ey]|undeniabl[ey]|certainly|definitely|surely|clearly|obviously"
     r"|evidently|of course|in fact|absolutely|for sure", HIGH),
    (r"(?:is|are|was|were|am) (?:certain|sure|convinced|confident)|convinced that|confident that", HIGH),
    (r"(?:is|are|was|were|has been|have been) (?:confirmed|proven|proved)|(?:has|have|had) confirmed|confirmed that"
     r"|proves? that", HIGH),
    # negated ability is not a hedge ("could not realise", "cannot attend"): consumed, no weight
    (r"could not|couldn't|can not|cannot|can't", _NONE),
    # possible
    (r"may|might|maybe|perhaps|possibly|conceivably|potentially|could|perchance", LOW),
    (r"possible that|(?:it is|it's|it was|it would be|it may be) possible(?! to)|a possibility|speculat\w*|rumou?red"
     r"|doubts? (?:whether|if)", LOW),
    # probable
    (r"likely|probably|probable|presumably|unlikely|doubtful|doubts? that|apparently|seemingly|reportedly|allegedly"
     r"|purportedly|supposedly|ostensibly|expected to|projected to|forecast to|anticipated to", MEDIUM),
    (r"it (?:appears|appeared|seems|seemed)|appears? that|appears? to|appeared to|seems?|seemed|suggests?|suggested"
     r"|indicates? that|is said to|are said to"
     r"|(?:is|are|was|were) (?:believed|thought|understood|suspected|feared) to", MEDIUM),
    (r"should|ought to|believes?|believed|thinks?|thought|suspects?|suspected|expects?|expected|assumes?|assumed|hopes?|hoped"
     r"|supposes?|guess(?:es)?|in all likelihood|as far as (?:we|i) know|most likely", MEDIUM),
]
# one pass: the alternatives in list order, so at any position the earlier (more specific) cue wins
_CUE_RE = re.compile(r"(?<![\w'’])(?:" + "|".join(rf"(?P<c{k}>{p})" for k, (p, _) in enumerate(_CUES)) + r")(?![\w])",
                     re.IGNORECASE)
_LEVEL_OF = {f"c{k}": level for k, (_, level) in enumerate(_CUES)}

# single words that are cues only as verbs / adverbs, not as attributive adjectives or nouns
_VERB_ONLY = frozenset("believed thought suspected expected assumed suspects suspect expects expect believe believes "
                       "thinks think guess guesses suppose supposes assumes hope hopes hoped".split())
_NOT_ATTRIBUTIVE = frozenset("likely unlikely probable possible doubtful potentially".split())
# "as expected", "than expected": the outcome is stated as fact
_AS_EXPECTED = re.compile(r"(?:as|than)\s+(?:had been\s+|was\s+|were\s+)?(?:expected|thought|believed|feared)\s*$", re.I)

_MONTH_BEFORE = re.compile(r"(?:in|on|since|until|of|early|late|mid-?|by|from|through|last|next|this|and)\s+$", re.I)
# speaker hedges carried by the reporting verb itself ("officials believe that ..."); say/claim/allege are not
HEDGING_VERBS = {
    "believe": MEDIUM, "think": MEDIUM, "suspect": MEDIUM, "expect": MEDIUM, "estimate": MEDIUM, "guess": MEDIUM,
    "assume": MEDIUM, "suppose": MEDIUM, "feel": MEDIUM, "fear": MEDIUM, "hope": MEDIUM, "doubt": MEDIUM,
    "suggest": MEDIUM, "reckon": MEDIUM, "speculate": LOW, "wonder": LOW,
}
_CONDITIONAL_MARKS = frozenset({"if", "unless"})
_SCOPELESS_MARKS = frozenset({"because", "since", "when", "while", "after", "before", "as", "until", "although",
                              "though", "whereas", "once"})
_RELATIVES = frozenset({"who", "which", "whom", "whose"})


def _is_month(text: str, m: re.Match[str]) -> bool:
    if m.group(0) != "May":
        return False
    return bool(re.match(r"\s*\d", text[m.end():]) or _MONTH_BEFORE.search(text[:m.start()])
                or re.match(r"\s+(?:\d|of\b|and\b|to\b|through\b|,)", text[m.end():]))


def certainty_of(text: str) -> Certainty:
    """Certainty of a bare string (no parse): the cue lists alone."""
    return _score(text, None, None)


def certainty_of_tokens(tokens: Sequence[Token], text: str, cue_verb: Token | None = None,
                        question: bool = False) -> Certainty:
    """Certainty of a claim from its tokens (contiguous): cues outside relative/adverbial clauses and
    embedded questions, conditionals ("if"/"unless" clauses attached inside the claim), a hedging
    reporting verb (``cue_verb``: "believe", "suspect", not "say"), and ``question`` (an indirect question:
    "asked whether ...")."""
    if not tokens:
        return _score(text, None, None)
    first, last = tokens[0].i, tokens[-1].i
    masked: list[tuple[int, int]] = []  # token ranges of clauses that do not scope over the claim
    extra: list[tuple[int, str, str]] = []  # (order, cue text, level)

    def mask(clause: Token) -> None:
        if clause.head.i != clause.i and first <= clause.head.i <= last:
            masked.append((clause.left_edge.i, clause.right_edge.i))

    for t in tokens:
        dep = t.dep_
        if dep == "mark":
            low, clause = t.lower_, t.head
            if not first <= clause.i <= last:
                continue
            cdep = clause.dep_
            if low in _CONDITIONAL_MARKS and cdep == "advcl":
                if not (t.i > 0 and t.nbor(-1).lower_ in ("even", "as")):
                    extra.append((t.i, t.text, LOW))  # "if it improves", "unless": the claim holds on a condition
            elif low in _SCOPELESS_MARKS and cdep == "advcl":
                mask(clause)
            elif low in ("whether", "if") and cdep != "advcl":
                mask(clause)  # an embedded question ("wondering if ...") asserts nothing
        elif dep == "relcl":
            mask(t)
        elif dep == "acl" and not any(c.dep_ == "mark" and c.lower_ in ("that", "whether", "if") for c in t.children):
            mask(t)  # participial modifiers ("people killed in ..."); not content clauses ("signs that it may end")
        elif dep in ("nsubj", "nsubjpass") and t.lower_ in _RELATIVES:
            mask(t.head)  # a clause whose subject is "who"/"which" is relative whatever the parser labelled it
    if masked:
        extra = [e for e in extra if not any(a <= e[0] <= b for a, b in masked)]
        kept = [t for t in tokens if not any(a <= t.i <= b for a, b in masked)]
    else:
        kept = list(tokens)
    if not kept:
        return _score(text, None, extra)
    if masked or kept[-1].i - kept[0].i + 1 != len(kept):  # a gap: rebuild the text from the kept tokens
        offsets, pos, pieces = [], 0, []
        for t in kept:
            offsets.append(pos)
            pieces.append(t.text_with_ws)
            pos += len(t.text_with_ws)
        kept_text = "".join(pieces)
    else:  # nothing masked: a slice of the Doc's text, no rebuilding
        base, end = kept[0].idx, kept[-1].idx + len(kept[-1].text)
        kept_text = info(kept[0].doc).text[base:end]
        offsets = [t.idx - base for t in kept]
    if question or text.rstrip().endswith("?"):
        extra.append((10**9, "?", LOW))
    if cue_verb is not None:
        level = HEDGING_VERBS.get(cue_verb.lemma_.lower())
        if level is not None:
            extra.insert(0, (-1, cue_verb.text, level))
    return _score(kept_text, (kept, offsets), extra)


def _score(text: str, tokens: tuple[list[Token], list[int]] | None, extra: list[tuple[int, str, str]] | None) -> Certainty:
    """The weakest cue's level, and the cue phrases (as written) at that level, in text order."""
    written = text
    text = text.replace("’", "'")  # one character for one: offsets and the cues as written survive
    found: list[tuple[float, str, str]] = []  # (order, text, level)
    for m in _CUE_RE.finditer(text):
        s, e = m.span()
        level = _LEVEL_OF[m.lastgroup or ""]
        if _is_month(text, m):
            continue
        word = m.group(0).lower()
        if tokens is not None and (word in _VERB_ONLY or word in _NOT_ATTRIBUTIVE):
            tok = _token_at(tokens, s)
            if tok is not None and word in _VERB_ONLY and (tok.pos_ not in ("VERB", "AUX") or tok.dep_ == "amod"
                                                           or _reports_someone_else(tok)):
                continue  # "the suspected gunman", "an expected rise", "the label thought ..."
            if tok is not None and word in _NOT_ATTRIBUTIVE and tok.dep_ == "amod":
                continue  # "the likely winner", "the possible loss of jobs"
        if word in ("expected", "thought", "believed", "feared") and _AS_EXPECTED.search(text[:e]):
            continue
        if level != _NONE:
            found.append((s, written[s:e], level))
    for order, cue, level in extra or ():
        found.append((order if order >= 0 else -1, cue, level))
    if not found:
        return Certainty(level=HIGH, cues=[])
    level = min((lv for _, _, lv in found), key=_RANK.__getitem__)
    return Certainty(level=level, cues=[c for _, c, lv in sorted(found, key=lambda f: f[0]) if lv == level])


def _reports_someone_else(verb: Token) -> bool:
    """"the label thought X", "officials believe X" inside a claim: the speaker reports another's belief
    (a fact about them), while "I think", "we believe" and "is believed to" hedge the speaker's own word."""
    subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
    # a pronoun subject in reported speech is usually the speaker ("he said he hoped ...")
    return subject is not None and subject.lower_ not in ("i", "we", "he", "she", "they")


def _token_at(tokens: tuple[list[Token], list[int]], offset: int) -> Token | None:
    toks, offsets = tokens
    k = bisect.bisect_right(offsets, offset) - 1
    return toks[k] if 0 <= k < len(toks) else None


def level_rank(level: str) -> int:
    return _RANK[level]
