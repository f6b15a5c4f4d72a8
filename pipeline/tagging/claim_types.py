"""Claim types from the tokens of a claim span (see docs/tagging.md for the rules)."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.tokens import Token

from pipeline.tagging.lexicon import REPORTING_VERBS

_QUANTITY_ENTS = frozenset({"CARDINAL", "PERCENT", "MONEY", "QUANTITY"})
_PREDICTION = frozenset("will 'll shall forecast predict project expect anticipate plan intend tomorrow future".split())
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
_STATIVE = REPORTING_VERBS | frozenset("be have seem appear become remain do get".split())
_EVENT_NOUNS = frozenset(
    """attack election vote meeting summit war strike explosion visit trip invasion ceremony protest
    shooting crash earthquake fire flood arrest launch deal signing talks negotiation offensive""".split()
)


def claim_types(tokens: Sequence[Token]) -> list[str]:
    found: set[str] = set()
    for t in tokens:
        low, lemma = t.lower_, t.lemma_.lower()
        if (t.like_num and t.ent_type_ not in ("DATE", "TIME", "ORDINAL")) or t.ent_type_ in _QUANTITY_ENTS or low == "%":
            found.add("quantity")
        if lemma in _PREDICTION or low in _PREDICTION or (low == "going" and t.nbor(1).lower_ == "to" if t.i + 1 < len(t.doc) else False):
            if not (lemma in ("plan", "project") and t.pos_ == "NOUN"):
                found.add("prediction")
        if lemma in _CAUSAL or low in _CAUSAL:
            if not (lemma == "lead" and t.pos_ != "VERB") and not (lemma == "result" and t.pos_ == "NOUN"):
                found.add("causal")
        if t.tag_ in ("JJR", "RBR", "JJS", "RBS") or lemma in _COMPARISON or low in _COMPARISON:
            found.add("comparison")
        if lemma in _RULE or low in _RULE or t.ent_type_ == "LAW":
            found.add("rule")
        if lemma in _OPINION or low in _OPINION or (t.pos_ == "ADJ" and any(c.lower_ in ("very", "too", "so", "deeply", "extremely") for c in t.children)):
            found.add("opinion")
        if (t.pos_ == "VERB" and t.tag_ in ("VBD", "VBN") and lemma not in _STATIVE) or lemma in _EVENT_NOUNS or t.ent_type_ == "EVENT":
            found.add("event")
    order = ("quantity", "event", "prediction", "causal", "comparison", "rule", "opinion")
    return [k for k in order if k in found]
