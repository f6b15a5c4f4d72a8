"""When earlier copies of a story are rewritten: bounded work per copy while the story grows."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.records import Story
from pipeline.stories.cluster import Member
from pipeline.stories.fingerprint import Fingerprint
from pipeline.stories.freshness import EXACT_UP_TO, GROWTH, Policy, rewrite

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _member(written: int, stale: bool = False, story: str = "s") -> Member:
    fp = Fingerprint("a", T0, "https://a.example/1", "a.example", 100, 96, b"", ())
    return Member(fp, story, T0, written_size=written, stale=stale)


def _story(size: int, story: str = "s") -> Story:
    return Story(id=story, size=size)


def test_small_stories_are_always_exact():
    for size in range(2, EXACT_UP_TO + 1):
        assert rewrite(_member(size - 1), _story(size), Policy.GROWING)


def test_a_growing_story_rewrites_a_copy_once_it_grew_growth_times():
    w = EXACT_UP_TO
    assert not rewrite(_member(w), _story(w + 1), Policy.GROWING)
    assert not rewrite(_member(w), _story(GROWTH * w - 1), Policy.GROWING)
    assert rewrite(_member(w), _story(GROWTH * w), Policy.GROWING)
    assert rewrite(_member(0), _story(500), Policy.GROWING)  # nothing recorded (written before stories)


def test_rewrites_per_copy_stay_bounded_however_long_the_story_runs():
    """One copy, a story growing by one copy at a time to 10,000: a handful of rewrites, not 10,000."""
    written, rewrites = 1, 0
    for size in range(2, 10_001):
        if rewrite(_member(written), _story(size), Policy.GROWING):
            written, rewrites = size, rewrites + 1
        assert written == size or (size > EXACT_UP_TO and GROWTH * written > size)
    assert rewrites <= EXACT_UP_TO + 6


def test_a_moved_copy_is_always_rewritten():
    assert rewrite(_member(100), _story(101), Policy.GROWING, moved=True)
    assert rewrite(_member(100, story="old"), _story(101), Policy.GROWING)


def test_settling_rewrites_only_copies_that_are_behind():
    assert rewrite(_member(40, stale=True), _story(50), Policy.SETTLE)
    assert rewrite(_member(40), _story(50), Policy.SETTLE)
    assert not rewrite(_member(50), _story(50), Policy.SETTLE)
    assert rewrite(_member(50), _story(50), Policy.EXACT)
