"""The clustering core without a cluster: the copy test and the merge rule, arrival order permuted."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from pipeline.stories.cluster import Member, combine, founding, plan, summarize
from pipeline.stories.fingerprint import are_copies, fingerprint, jaccard

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
_rng = random.Random(7)
_VOCAB = [f"w{i}" for i in range(3000)]


def _text(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCAB) for _ in range(n))


def _fp(aid: str, text: str, minutes: int = 0, outlet: str = "a.example"):
    return fingerprint(aid, text, seen_at=T0 + timedelta(minutes=minutes), url=f"https://{outlet}/{aid}",
                       outlet=outlet, min_words=40)


def test_copies_and_non_copies():
    base = _text(400, 1)
    words = base.split()
    trimmed = " ".join(words[:240])  # the last 40% dropped
    edited = " ".join(words[:100] + ["changed", "words", "here"] + words[103:])
    wrapped = "Breaking news from our desk " + base + " " + _text(60, 9)  # another outlet's boilerplate
    a = _fp("a", base)
    assert are_copies(a, _fp("t", trimmed)) and jaccard(a, _fp("t", trimmed)) < 0.75
    assert are_copies(a, _fp("e", edited)) and are_copies(a, _fp("w", wrapped))
    assert not are_copies(a, _fp("o", _text(400, 2)))
    stub = _fp("s", " ".join(words[:30]))
    assert not stub.comparable and not are_copies(a, stub)
    # a long article containing a short one as a small part is not its copy
    assert not are_copies(_fp("l", base + " " + _text(1200, 3)), _fp("p", " ".join(words[:200])))


def _replay(prints, order):
    """Arrivals one at a time against an in-memory store, as Stories.assign does against the index."""
    stored: dict[str, Member] = {}
    for i in order:
        fp = prints[i]
        stored[fp.article_id] = founding(fp)
        out = plan([fp], list(stored.values()), WEEK)
        for aid, m in list(stored.items()):
            sid, started = out.final(m.story_id, m.story_started_at)
            stored[aid] = Member(m.print, sid, started)
        sid, started = out.story_of[fp.article_id]
        stored[fp.article_id] = Member(fp, sid, started)
    return stored


def test_grouping_does_not_depend_on_the_order_of_arrival():
    base, other = _text(300, 11), _text(300, 12)
    w = base.split()
    prints = [_fp("c0", base, 0), _fp("c1", " ".join(w[:200]), 5), _fp("c2", " ".join(w[100:]), 9),
              _fp("o0", other, 3), _fp("o1", other + " more words at the end", 7), _fp("x", _text(300, 13), 1)]
    # c1 and c2 share only a third of the text: each is a copy of c0, not of each other
    assert not are_copies(prints[1], prints[2])
    partitions = set()
    ids = set()
    for order in itertools.permutations(range(len(prints))):
        stored = _replay(prints, order)
        groups: dict[str, set[str]] = {}
        for aid, m in stored.items():
            groups.setdefault(m.story_id, set()).add(aid)
        partitions.add(frozenset(frozenset(g) for g in groups.values()))
        ids.add(tuple(sorted((aid, m.story_id) for aid, m in stored.items())))
    assert partitions == {frozenset({frozenset({"c0", "c1", "c2"}), frozenset({"o0", "o1"}), frozenset({"x"})})}
    assert len(ids) == 1  # and the story ids too: the story started first survives a merge


def test_outside_the_window_is_a_new_story():
    base = _text(300, 21)
    old, new = _fp("old", base, 0), _fp("new", base, int(WEEK.total_seconds() // 60) + 60)
    out = plan([new], [founding(old)], WEEK)
    assert out.story_of["new"][0] == "new"


def test_summary_of_a_story():
    base = _text(300, 31)
    members = [Member(_fp("b", base, 10, "b.example"), "a", T0), Member(_fp("a", base, 0, "a.example"), "a", T0),
               Member(_fp("c", base, 20, "b.example"), "a", T0)]
    story = summarize("a", members)
    assert (story.size, story.outlet_count, story.outlets) == (3, 2, ["a.example", "b.example"])
    assert story.first_url == "https://a.example/a" and story.first_seen_at == T0


def test_combine_folds_stored_stories_and_new_copies_into_one():
    base = _text(300, 3)
    a = [Member(_fp("a1", base, 0, "a.example"), "a1", T0), Member(_fp("a2", base, 5, "b.example"), "a1", T0)]
    b = [Member(_fp("b1", base, -3, "c.example"), "b1", T0), Member(_fp("b2", base, 9, "a.example"), "b1", T0)]
    whole = summarize("a1", [*a, *b])
    parts = combine("a1", [summarize("a1", a), summarize("b1", b)])
    assert (parts.size, parts.first_url, parts.first_seen_at) == (whole.size, whole.first_url, whole.first_seen_at)
    assert set(parts.outlets) == set(whole.outlets) and parts.outlet_count == whole.outlet_count == 3
    assert combine("x", [summarize("x", a[:1])]).size == 1
