"""The shipped gazetteer: what kind of thing a well-known name is (GPE, LOC, NORP, ORG).

``data/gazetteer.yaml`` lists world countries, regions, first-level divisions, large cities,
demonyms and international organisations from general knowledge. It corrects NER types
("Punjab" tagged PERSON is a GPE) and finds names NER missed; ids still come from the alias table
or the usual ``<type>:<slug>`` of the name.
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml

from pipeline.tagging.aliases import normalize_key

SECTION_TYPES = {
    "countries": "GPE", "states": "GPE", "cities": "GPE", "regions": "LOC", "nationalities": "NORP",
    "organisations": "ORG",
}


@functools.lru_cache(maxsize=1)
def _load() -> tuple[dict[str, str], tuple[str, ...]]:
    text = resources.files("pipeline.tagging").joinpath("data/gazetteer.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text) or {}
    types: dict[str, str] = {}
    names: list[str] = []
    for section, type_ in SECTION_TYPES.items():
        for name in raw.get(section) or []:
            types.setdefault(normalize_key(name), type_)
            names.append(name.removeprefix("the "))
    return types, tuple(names)


def place_type(name: str) -> str | None:
    """GPE/LOC/NORP/ORG for a listed name (case, dots, hyphens, "the" and "'s" ignored), else None."""
    return _load()[0].get(normalize_key(name))


def names() -> tuple[str, ...]:
    """Every listed surface name (for a case-sensitive phrase matcher)."""
    return _load()[1]
