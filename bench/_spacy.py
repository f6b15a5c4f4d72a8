"""The spaCy model newswatch's tagger loads, as spaCy itself loads it: the bare component that the
benchmarks' baselines run (newswatch's own pipeline differs in its tokenizer rule for dotted names and
its attribute ruler's matching, pipeline/tagging/nlp.py)."""

from __future__ import annotations

from typing import Any


def stock_nlp() -> tuple[str, Any]:
    """(package name, pipeline) of the first installed model newswatch would load."""
    import spacy

    from pipeline.tagging.nlp import model_names

    names = model_names()
    for name in names:
        try:
            return name, spacy.load(name)
        except OSError:
            continue
    raise SystemExit(f"none of the spaCy models {names} is installed")
