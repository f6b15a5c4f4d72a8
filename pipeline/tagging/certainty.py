"""Certainty of a claim from hedges, boosters and negation (see docs/tagging.md).

Each cue has a weight: boosters +2, strong hedges -2, weak hedges -1. Longer phrases are matched
first and their words are consumed, so "no doubt" (a booster) never also counts as "doubt" (a
hedge) and "does not rule out" is one strong hedge. Score >= 1 is high, <= -2 is low, else medium.
"""

from __future__ import annotations

import re

from pipeline.tagging.schema import Certainty

_CUES: list[tuple[str, int]] = [
    # boosters (negated doubt first)
    (r"there (?:is|was|can be) no (?:doubt|question)", 2),
    (r"(?:no|little|without (?:a|any)?) ?doubts?", 2),
    (r"beyond (?:any |a )?doubt", 2),
    (r"no question that", 2),
    (r"undoubtedly|unquestionably|indisputabl[ey]|undeniabl[ey]|certainly|definitely|surely|clearly|obviously|evidently", 2),
    (r"of course|in fact|without question|absolutely|for sure|is certain|are certain|convinced|(?:am|is|are|was|were) confident|confident that", 2),
    (r"(?:is|are|was|were|has been|have been) (?:confirmed|proven|proved)|(?:has|have|had) confirmed|confirmed that|confirms|proves? that|will certainly", 2),
    # negated boosters and negated hedges
    (r"(?:not|n't|never) (?:clear|certain|sure|known|confirmed|obvious)", -2),
    (r"(?:not|n't) (?:clearly|certainly|necessarily|definitely)", -1),
    (r"(?:does|do|did|would|could|will|can|cannot|can't|won't|didn't|doesn't|don't) ?(?:not )?rule (?:it |this |that )?out", -2),
    (r"(?:not|n't|cannot) (?:be )?(?:exclude|excluded|ruled out)|cannot exclude", -2),
    # negated ability is not a hedge ("could not realise", "cannot attend")
    (r"could not|couldn't|can not|cannot(?! (?:be )?(?:ruled|rule|exclude))|can't(?! rule)", 0),
    # strong hedges
    (r"may|might|maybe|perhaps|possibly|reportedly|allegedly|purportedly|supposedly|apparently", -2),
    (r"could|unclear|uncertain|unconfirmed|unverified|unlikely|doubtful|doubts? (?:that|whether)|rumou?red|speculat\w*", -2),
    (r"(?:it is|it's|it was|is|are) possible|not likely|hard to say|remains to be seen", -2),
    # weak hedges
    (r"likely|probably|possible|presumably|appears?|appeared|seems?|seemed|suggests?|suggested|expected to", -1),
    (r"believes?|believed|thinks?|thought|estimated?|estimates|roughly|approximately|would|assume[sd]?", -1),
    (r"tend(?:s|ed)? to|in part|partly|somewhat|some ?what", -1),
]
_PATTERNS = [(re.compile(r"(?<![\w'])(?:" + p + r")(?![\w])", re.IGNORECASE), w) for p, w in _CUES]


_MONTH_BEFORE = re.compile(r"(?:in|on|since|until|of|early|late|mid-?|by|from|through|last|next|this|and)\s+$", re.I)


def _is_month(text: str, m: re.Match[str]) -> bool:
    if m.group(0).lower() != "may" or m.group(0) != "May":
        return False
    return bool(re.match(r"\s*\d", text[m.end():]) or _MONTH_BEFORE.search(text[:m.start()]))


def certainty_of(text: str) -> Certainty:
    return _score(text)


def certainty_of_tokens(tokens: list, text: str) -> Certainty:
    """Certainty of a claim, ignoring hedges inside relative and adverbial clauses that do not scope
    over it ("who was possibly the victim", "because they may disagree")."""
    if not tokens:
        return _score(text)
    inside = {t.i for t in tokens}
    masked: set[int] = set()
    for t in tokens:
        if t.head.i in inside and t.i != t.head.i and (
            t.dep_ in ("relcl", "acl") or (t.dep_ == "advcl" and any(
                c.dep_ == "mark" and c.lower_ in _SCOPELESS_MARKS for c in t.children))
            # a clause whose subject is "who"/"which" is relative whatever label the parser gave it
            or any(c.dep_ in ("nsubj", "nsubjpass") and c.lower_ in ("who", "which") for c in t.children)
        ):
            masked.update(x.i for x in t.subtree)
    kept = "".join(t.text_with_ws for t in tokens if t.i not in masked)
    return _score(kept)


_SCOPELESS_MARKS = frozenset({"because", "since", "when", "while", "after", "before", "as", "until", "although", "though"})


def _score(text: str) -> Certainty:
    """Certainty level and the cue phrases (as written) that decided it."""
    consumed = [False] * len(text)
    score = 0
    cues: list[tuple[int, str]] = []
    for pattern, weight in _PATTERNS:
        for m in pattern.finditer(text):
            if any(consumed[m.start():m.end()]) or _is_month(text, m):
                continue
            for i in range(m.start(), m.end()):
                consumed[i] = True
            score += weight
            cues.append((m.start(), m.group(0)))
    level = "high" if score >= 1 else "low" if score <= -2 else "medium"
    return Certainty(level=level, cues=[c for _, c in sorted(cues)])
