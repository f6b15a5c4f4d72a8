"""The same matches as the model's `attribute_ruler`, found by lookup instead of spaCy's Matcher.

en_core_web_sm's attribute ruler (tag -> POS and morphology, and word exceptions) holds ~180 patterns,
nearly all of one token with exact values. spaCy's Matcher tries every pattern at every token: measured
on 181 real articles it was 16% of all extraction and tagging CPU. Indexed by the first token's tag,
lower-case form and dependency label, a token meets only the few patterns that can match it. The
matches (and so every POS, morph and lemma the ruler sets) are identical; a pattern with conditions of
another kind (operators such as `OP`) stays with a Matcher of its own. The ruler still applies the
matches (`AttributeRuler.set_annotations`), in its own order.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from spacy.matcher import Matcher
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc, Token

Match = tuple[int, int, int, int]  # (rule number, its key, start, end), as AttributeRuler.match returns
_TEXT_ATTRS = {"TAG": "tag_", "LOWER": "lower_", "DEP": "dep_"}


def _value_test(spec: Any) -> Callable[[Any], bool] | None:
    if isinstance(spec, (str, bool)):
        return lambda v: v == spec
    if isinstance(spec, dict) and len(spec) == 1:
        (op, arg), = spec.items()
        if op == "IN":
            allowed = frozenset(arg)
            return lambda v: v in allowed
        if op == "NOT_IN":
            banned = frozenset(arg)
            return lambda v: v not in banned
        if op == "REGEX":
            pattern = re.compile(arg)
            return lambda v: pattern.search(v) is not None
    return None


def _exact_values(spec: Any) -> list[str] | None:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, dict) and list(spec) == ["IN"] and all(isinstance(v, str) for v in spec["IN"]):
        return list(spec["IN"])
    return None


Test = Callable[[Token], bool]
Rule = tuple[int, int, Test | None, tuple[Test, ...]]  # number, key, the first token's other conditions, the rest


def _test(conditions: list[tuple[str, Any]]) -> Test | None:
    """One token's conditions as a test; None when one is of a kind not handled here."""
    tests: list[tuple[str, Callable[[Any], bool]]] = []
    for key, value in conditions:
        attr = "is_space" if key == "IS_SPACE" else _TEXT_ATTRS.get(key)
        test = _value_test(value)
        if attr is None or test is None:
            return None
        tests.append((attr, test))
    return lambda token: all(test(getattr(token, attr)) for attr, test in tests)


Key = tuple[str | None, str | None, str | None]  # the token's tag, lower-case form and dependency label


def _compiled(pattern: list[dict[str, Any]]) -> tuple[list[Key], Test | None, tuple[Test, ...]] | None:
    """The keys the pattern's first token is found under, a test of its other conditions and a test per
    following token; None for a pattern this matcher leaves to spaCy's."""
    first = pattern[0]
    exact = {name: _exact_values(first[name]) if name in first else [None] for name in ("TAG", "LOWER", "DEP")}
    others = [(k, v) for k, v in first.items() if not (k in exact and exact[k])]
    first_test = _test(others) if others else None
    rest = [_test(list(spec.items())) for spec in pattern[1:]]
    if (others and first_test is None) or any(t is None for t in rest):
        return None
    keys: list[Key] = [(t, lo, d) for t in exact["TAG"] or [None] for lo in exact["LOWER"] or [None]
                       for d in exact["DEP"] or [None]]
    return keys, first_test, tuple(t for t in rest if t is not None)


class IndexedAttributeMatcher:
    def __init__(self, ruler: AttributeRuler) -> None:
        self.size = len(ruler.attrs)
        self.rules: dict[Key, list[Rule]] = defaultdict(list)
        self.rest = Matcher(ruler.vocab)
        self.has_rest = False
        for number, entry in enumerate(ruler.patterns):
            key = ruler.vocab.strings.add(str(number))
            for pattern in entry["patterns"]:
                compiled = _compiled(pattern)
                if compiled is None:
                    self.rest.add(key, [pattern])
                    self.has_rest = True
                    continue
                keys, first_test, following = compiled
                for k in keys:
                    self.rules[k].append((number, key, first_test, following))
        self.any_token = self.rules.pop((None, None, None), [])
        # which of tag, lower-case form and dependency label the keys in use hold
        self.shapes = sorted({tuple(part is not None for part in k) for k in self.rules})

    def __call__(self, doc: Doc) -> list[Match]:
        matches: list[Match] = []
        rules, n = self.rules, len(doc)
        for token in doc:
            tag, lower, dep, i = token.tag_, token.lower_, token.dep_, token.i
            for found in (*(rules.get((tag if t else None, lower if lo else None, dep if d else None))
                            for t, lo, d in self.shapes), self.any_token):
                for number, key, first_test, following in found or ():
                    end = i + 1 + len(following)
                    if (first_test is None or first_test(token)) and end <= n and all(
                            test(doc[i + 1 + j]) for j, test in enumerate(following)):
                        matches.append((number, key, i, end))
        if self.has_rest:
            matches.extend((int(self.rest.vocab.strings[key]), key, start, end)
                           for key, start, end in self.rest(doc, allow_missing=True))
        return sorted(set(matches))


class IndexedAttributeRuler(AttributeRuler):
    """An AttributeRuler that matches with an IndexedAttributeMatcher, built from its patterns when first
    needed and again after patterns are added."""

    def match(self, doc: Doc) -> list[Match]:
        matcher = _MATCHERS.get(self)
        if matcher is None or matcher.size != len(self.attrs):
            matcher = _MATCHERS[self] = IndexedAttributeMatcher(self)
        return matcher(doc)


# beside the rulers, not in them: a ruler still pickles (its matcher's tests do not) and is rebuilt on use
_MATCHERS: weakref.WeakKeyDictionary[AttributeRuler, IndexedAttributeMatcher] = weakref.WeakKeyDictionary()


def use_indexed_matching(ruler: AttributeRuler) -> None:
    """Make the model's loaded `ruler` find its matches by lookup (same patterns, same annotations)."""
    ruler.__class__ = IndexedAttributeRuler
