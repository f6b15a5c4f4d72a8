"""Check-worthiness in [0, 1]: a documented additive score (see docs/tagging.md).

Checkable claims carry numbers, name who and what, describe events, causes, comparisons, rules or
predictions, and are attributed to a named source; opinions, questions and very short or very long
fragments are less checkable.
"""

from __future__ import annotations

FACTUAL_TYPES = frozenset({"event", "prediction", "causal", "comparison", "rule"})

WEIGHTS = {
    "base": 0.10,
    "quantity": 0.25,
    "per_factual_type": 0.10,  # up to 3 types
    "named_entity": 0.15,
    "two_plus_entities": 0.05,
    "named_speaker": 0.10,
    "direct_quote": 0.05,
    "only_opinion": -0.20,
    "short": -0.15,  # fewer than 6 words
    "long": -0.10,  # more than 60 words
    "question": -0.30,
    "low_certainty": -0.10,
}


def checkworthiness(
    *, text: str, types: list[str], about: list[str], kind: str, has_named_speaker: bool, certainty: str
) -> float:
    w = WEIGHTS
    score = w["base"]
    if "quantity" in types:
        score += w["quantity"]
    score += w["per_factual_type"] * min(3, len(FACTUAL_TYPES.intersection(types)))
    if about:
        score += w["named_entity"]
    if len(about) >= 2:
        score += w["two_plus_entities"]
    if has_named_speaker:
        score += w["named_speaker"]
    if kind == "direct_quote":
        score += w["direct_quote"]
    if types == ["opinion"]:
        score += w["only_opinion"]
    words = len(text.split())
    if words < 6:
        score += w["short"]
    elif words > 60:
        score += w["long"]
    if text.rstrip().endswith("?"):
        score += w["question"]
    if certainty == "low":
        score += w["low_certainty"]
    return round(min(1.0, max(0.0, score)), 3)
