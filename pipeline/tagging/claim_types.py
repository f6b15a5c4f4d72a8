"""Claim types from the tokens of a claim span (see docs/tagging.md for the rules)."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.tokens import Token

from pipeline.tagging.docinfo import info
from pipeline.tagging.lexicon import REPORTING_VERBS

_QUANTITY_ENTS = frozenset({"CARDINAL", "PERCENT", "MONEY", "QUANTITY"})
_PREDICTION = frozenset("will 'll shall would forecast predict project expect anticipate plan intend tomorrow future".split())
_CAUSAL = frozenset(
    "because cause enable allow mean lead result due trigger prompt spark fuel blame thanks consequence therefore hence consequently owing".split()
)
_COMPARISON = frozenset(
    "than compare compared comparison increase decrease rise fall drop decline grow surge plunge double triple halve exceed surpass outpace".split()
)
_RULE = frozenset(
    """law rule regulation ban require prohibit forbid permit legal illegal unlawful legislation bill constitution
    treaty agreement sanction mandate oblige obligate decree ruling court statute provision must shall
    entitle""".split()
)
_OPINION = frozenset(
    """should ought believe think feel hope important concerned brutal wrong right good bad great terrible best
    worst deserve unacceptable outrageous shameful welcome regret disappointing hopeful fair unfair
    necessary crucial vital dangerous ridiculous absurd excellent awful horrible wonderful amazing""".split()
)
# reporting verbs are not events ("said"), but finding and establishing something is
_STATIVE = (REPORTING_VERBS - {"find", "establish", "determine", "remember", "joke"}) | frozenset(
    "be have seem appear become remain do get".split())
_INTENSIFIERS = frozenset({"very", "too", "so", "deeply", "extremely"})
_EVENT_NOUNS = frozenset(
    """attack election vote meeting summit war strike explosion visit trip invasion ceremony protest
    shooting crash earthquake fire flood arrest launch deal signing talks negotiation offensive""".split()
)


def claim_types(tokens: Sequence[Token]) -> list[str]:
    if not tokens:
        return []
    di = info(tokens[0].doc)
    lowers, lemmas = di.lowers, di.lemmas
    found: set[str] = set()
    dated = any(t.ent_type_ in ("DATE", "TIME") for t in tokens)
    n = len(di.tokens)
    for t in tokens:
        i = t.i
        low, lemma = lowers[i], lemmas[i]
        ent = t.ent_type_
        if (ent not in ("DATE", "TIME", "ORDINAL") and t.like_num) or ent in _QUANTITY_ENTS or low == "%":
            found.add("quantity")
        if lemma in _PREDICTION or low in _PREDICTION or (low == "going" and i + 1 < n and lowers[i + 1] == "to"):
            if not (lemma in ("plan", "project") and t.pos_ == "NOUN"):
                found.add("prediction")
        if lemma in _CAUSAL or low in _CAUSAL:
            if not (lemma == "lead" and t.pos_ != "VERB") and not (lemma == "result" and t.pos_ == "NOUN"):
                found.add("causal")
        tag = t.tag_
        if tag in ("JJR", "RBR", "JJS", "RBS") or lemma in _COMPARISON or low in _COMPARISON:
            found.add("comparison")
        if lemma in _RULE or low in _RULE or ent == "LAW":
            found.add("rule")
        if lemma in _OPINION or low in _OPINION or (low in _INTENSIFIERS and t.head.pos_ == "ADJ"):
            found.add("opinion")
        if tag in ("VBD", "VBN", "VBZ", "VBP", "VB") and t.pos_ == "VERB" and lemma not in _STATIVE and (
                tag in ("VBD", "VBN") or (dated and t.dep_ == "ROOT")):
            found.add("event")  # a past action, or a dated one ("The commission holds a hearing Wednesday")
        elif lemma in _EVENT_NOUNS or ent == "EVENT":
            found.add("event")
    order = ("quantity", "event", "prediction", "causal", "comparison", "rule", "opinion")
    return [k for k in order if k in found]
