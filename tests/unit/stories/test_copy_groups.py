"""Copies in one batch are looked up together: how the batch is split."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from pipeline.stories.cluster import copy_groups
from pipeline.stories.fingerprint import fingerprint

T0 = datetime(2026, 11, 1, tzinfo=UTC)
_VOCAB = [f"w{i}" for i in range(3000)]


def _text(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCAB) for _ in range(n))


def _fp(aid: str, text: str):
    return fingerprint(aid, text, seen_at=T0, url=f"https://x.example/{aid}", outlet="x.example", min_words=40)


def test_copies_share_a_group_and_other_articles_stay_apart():
    a, b = _text(300, 1), _text(300, 2)
    trimmed = " ".join(a.split()[:200])
    prints = [_fp("a1", a), _fp("b1", b), _fp("a2", a + " from our desk"), _fp("a3", trimmed), _fp("c", _text(300, 3))]
    groups = {frozenset(fp.article_id for fp in g) for g in copy_groups(prints)}
    assert groups == {frozenset({"a1", "a2", "a3"}), frozenset({"b1"}), frozenset({"c"})}


def test_no_prints_no_groups():
    assert copy_groups([]) == []
