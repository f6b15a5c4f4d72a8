"""Which story each new article joins (pure: no Elasticsearch here).

A story is a connected group of copies: a new article links every stored article it is a copy of
(`are_copies`, within the window), and stories it links become one. The story that survives a merge is
the one started first (then the smaller id), a rule every process applies the same way to the same
stored data, so concurrent tasks agree and the grouping does not depend on the order of arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import numpy as np

from pipeline.records import Story
from pipeline.stories.fingerprint import MIN_JACCARD, NUM_PERM, Fingerprint, are_copies

MAX_OUTLETS = 100  # outlets listed on a story (outlet_count counts them all)
K = TypeVar("K")


@dataclass(frozen=True)
class Member:
    """A stored fingerprint and the story it belongs to."""

    print: Fingerprint
    story_id: str
    story_started_at: datetime
    written_size: int = 0  # the story size its article document carries (0: none or unknown)
    stale: bool = False  # its article document's story fields are behind the story's (see `freshness`)

    @property
    def article_id(self) -> str:
        return self.print.article_id

    @property
    def story_key(self) -> tuple[datetime, str]:
        return (self.story_started_at, self.story_id)


def founding(fp: Fingerprint) -> Member:
    """A new article's provisional story: its own, started when it was seen."""
    return Member(fp, fp.article_id, fp.seen_at)


@dataclass
class Plan:
    """The outcome of clustering new articles against what is stored."""

    story_of: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # new article -> story
    merged: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # old story -> surviving story

    def final(self, story_id: str, started: datetime) -> tuple[str, datetime]:
        return self.merged.get(story_id, (story_id, started))


class _Union(Generic[K]):
    """Union-find whose root is the smallest key of each group."""

    def __init__(self) -> None:
        self.parent: dict[K, K] = {}

    def find(self, key: K) -> K:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: K, b: K) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # for stories (started, id): the earlier-started story is the root, so it survives
            lo, hi = sorted((ra, rb))  # type: ignore[type-var]
            self.parent[hi] = lo


def plan(new: Sequence[Fingerprint], stored: Iterable[Member], window: timedelta) -> Plan:
    """Link each new fingerprint to the stored ones it is a copy of and merge the stories linked.

    `stored` holds the candidates found for the new fingerprints (it may include the new ones
    themselves, stored provisionally, which is how concurrent tasks see each other)."""
    new_ids = {fp.article_id for fp in new}
    members = {m.article_id: m for m in stored}
    for fp in new:
        members.setdefault(fp.article_id, founding(fp))
    union: _Union[tuple[datetime, str]] = _Union()
    for m in members.values():
        union.find(m.story_key)
    pool = [m for m in members.values() if m.print.comparable]
    if pool:
        signatures = np.vstack([m.print.hashvalues() for m in pool])
        for fp in new:
            if not fp.comparable:
                continue
            me = members[fp.article_id]
            # estimated Jaccard against every member at once; only the likely copies are checked further
            shared = np.count_nonzero(signatures == fp.hashvalues(), axis=1)
            for i in np.flatnonzero(shared >= MIN_JACCARD * NUM_PERM):
                other = pool[int(i)]
                if other.article_id == fp.article_id or abs(other.print.seen_at - fp.seen_at) > window:
                    continue
                if are_copies(fp, other.print):
                    union.union(me.story_key, other.story_key)
    out = Plan()
    for m in members.values():
        started, story_id = union.find(m.story_key)
        if story_id != m.story_id:
            out.merged[m.story_id] = (story_id, started)
        if m.article_id in new_ids:
            out.story_of[m.article_id] = (story_id, started)
    return out


def copy_groups(prints: Sequence[Fingerprint]) -> list[list[Fingerprint]]:
    """`prints` split into groups of copies of one another (linked copies join one group)."""
    union: _Union[int] = _Union()
    bands = [set(fp.bands) for fp in prints]
    for i, fp in enumerate(prints):
        for j in range(i):
            if union.find(i) != union.find(j) and bands[i] & bands[j] and are_copies(fp, prints[j]):
                union.union(i, j)
    groups: dict[int, list[Fingerprint]] = {}
    for i, fp in enumerate(prints):
        groups.setdefault(union.find(i), []).append(fp)
    return list(groups.values())


def summarize(story_id: str, members: Sequence[Member], max_outlets: int = MAX_OUTLETS) -> Story:
    """The story fields every copy carries, from all its members."""
    ordered = sorted(members, key=lambda m: (m.print.seen_at, m.article_id))
    first = ordered[0].print if ordered else None
    outlets = list(dict.fromkeys(m.print.outlet for m in ordered if m.print.outlet))
    return Story(id=story_id, size=max(1, len(ordered)), first_seen_at=first.seen_at if first else None,
                 first_url=first.url if first else None, outlets=outlets[:max_outlets],
                 outlet_count=max(1, len(outlets)))


def combine(story_id: str, parts: Sequence[Story]) -> Story:
    """One story from the stored stories (and new copies) it is made of now: a lower bound of what
    `summarize` gives once every member is stored (outlets seen in several parts are counted once only
    when listed)."""
    ordered = sorted(parts, key=lambda s: s.first_seen_at.timestamp() if s.first_seen_at else float("inf"))
    first = ordered[0] if ordered else None
    outlets = list(dict.fromkeys(o for s in ordered for o in s.outlets))
    return Story(id=story_id, size=max(1, sum(s.size for s in parts)),
                 first_seen_at=first.first_seen_at if first else None, first_url=first.first_url if first else None,
                 outlets=outlets[:MAX_OUTLETS],
                 outlet_count=max(1, len(outlets), *(s.outlet_count for s in parts)))
