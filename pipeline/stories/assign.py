"""Story clustering at ingest: `Stories.assign` gives each article of a batch its story before the batch
is indexed, and `Stories.sync` brings the other copies of the stories it touched up to date afterwards.

State lives in the fingerprints index, so tasks in other processes and later runs see the same stories:
a new article's fingerprint is stored first (a story of its own), then compared with every stored copy
its band keys find, so two tasks clustering copies at the same time each see the other's and settle on
the same story (`cluster.plan`). An article already fingerprinted keeps its story: re-runs and
re-tagging change no `story.id`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.config import Settings
from pipeline.index.documents import claim_key_of
from pipeline.index.names import IndexNames
from pipeline.index.transport import translated
from pipeline.records import Article, Story
from pipeline.stories.cluster import Member, combine, founding, plan, summarize
from pipeline.stories.fingerprint import Fingerprint, fingerprint
from pipeline.stories.freshness import Policy, may_lag, rewrite
from pipeline.stories.store import CONFLICT_RETRIES, SETTLE_STORIES, FingerprintStore, bulk_update


@dataclass
class Assignment:
    stories: dict[str, Story] = field(default_factory=dict)  # story id -> its fields now
    story_of: dict[str, str] = field(default_factory=dict)  # article id (this batch) -> story id
    moved: set[str] = field(default_factory=set)  # stored articles (not in this batch) now in another story

    def story_for(self, article_id: str) -> Story | None:
        story_id = self.story_of.get(article_id)
        return self.stories.get(story_id) if story_id else None


def fingerprint_article(article: Article, min_words: int) -> Fingerprint:
    seen = article.fetched_at or datetime.now(UTC)
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return fingerprint(article.article_id, article.text, seen_at=seen, url=article.url,
                       outlet=article.domain or article.site or "", min_words=min_words)


@dataclass
class Touched:
    """What batches of one task changed, brought up to date once at the end (`Stories.finish`): each
    copy of a story then gets one update per task, not one per batch that added a copy."""

    stories: set[str] = field(default_factory=set)
    moved: set[str] = field(default_factory=set)
    written: dict[str, Story] = field(default_factory=dict)  # article -> story fields written with it

    def add(self, assignment: Assignment, written: dict[str, Story]) -> None:
        # a story of one written with its article is up to date; a later copy in this task touches it
        self.stories.update(sid for sid, story in assignment.stories.items() if story.size > 1)
        self.moved.update(assignment.moved)
        self.moved.difference_update(written)
        self.written.update(written)

    def __bool__(self) -> bool:
        return bool(self.stories or self.moved)


def stories_for(es: Elasticsearch, settings: Settings) -> Stories | None:
    """The clustering step of ingest, unless switched off (NEWSWATCH_STORY_CLUSTERING=false)."""
    return Stories(es, settings) if settings.story_clustering else None


class Stories:
    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.names = IndexNames(settings.index_prefix)
        self.store = FingerprintStore(es, self.names)
        self.window = timedelta(days=settings.story_window_days)
        self.min_words = settings.story_min_words

    def assign(self, articles: Sequence[Article], *, summaries: bool = True) -> Assignment:
        """The story of every article in the batch (raises ClusterUnavailable when ES is away).

        `summaries=False` does not read back every member of the stories the batch joined (a cost that
        grows with the story): their fields are counted by the index as of the last refresh, with this
        batch's copies added (`_counted`). The stories of articles fingerprinted before (re-runs) are
        always read back."""
        prints = {a.article_id: fingerprint_article(a, self.min_words) for a in articles}
        if not prints:
            return Assignment()
        with translated(self.es):
            return self._assign(prints, summaries)

    def _assign(self, prints: dict[str, Fingerprint], summaries: bool = True) -> Assignment:
        known = self.store.get(list(prints))
        new = [fp for aid, fp in prints.items() if aid not in known]
        story_of = {aid: m.story_id for aid, m in known.items()}
        moved: set[str] = set()
        # what this call wrote since the last refresh: the read-back below sees the index as it was then,
        # and these documents as they are now (a refresh per batch only for that costs more than the lookup)
        written: dict[str, Member] = {}
        merged_away: set[str] = set()
        folded: dict[str, str] = {}  # a story as stored at the last refresh -> the story it is now part of
        joined: list[Member] = []
        seen: dict[str, Member] = dict(known)  # every member this call saw
        if new:
            self.store.put(founding(fp) for fp in new)
            comparable = [fp for fp in new if fp.comparable]
            found: list[Member] = []
            if comparable:  # texts too short to compare stay alone: nothing to look up
                self.store.refresh()
                found = self.store.candidates(comparable, self.window)
            outcome = plan(new, found, self.window)
            fresh = {fp.article_id for fp in new}
            joined = [Member(prints[aid], sid, started) for aid, (sid, started) in outcome.story_of.items()
                      if sid != aid]
            written.update((m.article_id, m) for m in joined)
            folded.update((m.article_id, m.story_id) for m in joined)
            by_target: dict[tuple[str, datetime], list[str]] = defaultdict(list)
            for old, target in outcome.merged.items():
                if old not in fresh:  # a new article's own provisional story: rewritten below
                    by_target[target].append(old)
                    merged_away.add(old)
                    folded[old] = target[0]
            for target, olds in by_target.items():
                relabelled = self.store.relabel(olds, target)
                moved.update(m.article_id for m in relabelled)
                written.update((m.article_id, m) for m in relabelled)
            story_of.update({aid: sid for aid, (sid, _) in outcome.story_of.items()})
            for m in found:
                sid, started = outcome.final(m.story_id, m.story_started_at)
                seen.setdefault(m.article_id, Member(m.print, sid, started))
            seen.update(written)
            seen.update((aid, Member(prints[aid], sid, started)) for aid, (sid, started) in outcome.story_of.items())
            others = {m.story_id for m in found} | {outcome.final(m.story_id, m.story_started_at)[0] for m in found}
            counts = Counter(story_of.values())
            alone = {aid for aid in fresh if story_of[aid] == aid and counts[aid] == 1 and aid not in others}
        else:
            alone = set()
            if summaries:  # a re-run: its stories as stored now, the last writes included
                self.store.refresh()
        # a new article that matched nothing is a story of one: nothing to read back
        wanted = {sid for aid, sid in story_of.items() if aid not in alone}
        # the story of an article fingerprinted before (a re-run) may have copies this call did not see
        read = wanted if summaries else {sid for aid, sid in story_of.items() if aid in known}
        members = self._members_now(read, written, merged_away)
        stories = {sid: summarize(sid, ms) for sid, ms in members.items() if ms}
        stories.update(self._counted(wanted - read, folded))
        for sid in wanted - stories.keys():  # not stored yet: what this call saw of it
            stories[sid] = summarize(sid, [m for m in seen.values() if m.story_id == sid])
        for aid, sid in story_of.items():  # not visible yet (no refresh needed for its own fields)
            stories.setdefault(sid, summarize(sid, [Member(prints[aid], sid, prints[aid].seen_at)]))
        # the new copies' fingerprints say what their documents will carry
        self.store.put(replace(m, written_size=stories[m.story_id].size, stale=may_lag(stories[m.story_id]))
                       for m in joined)
        return Assignment(stories=stories, story_of=story_of, moved=moved - set(prints))

    def _counted(self, story_ids: set[str], folded: dict[str, str]) -> dict[str, Story]:
        """The stories as the index counts them at the last refresh (the new fingerprints included, under
        their own provisional stories), with what this call merged or joined folded into each."""
        if not story_ids:
            return {}
        parts: dict[str, list[Story]] = defaultdict(list)
        sources = story_ids | {old for old, sid in folded.items() if sid in story_ids}
        for stored_id, story in self.store.summaries(sources).items():
            target = folded.get(stored_id, stored_id)
            if target in story_ids:
                parts[target].append(story)
        return {sid: combine(sid, ps) for sid, ps in parts.items()}

    def _members_now(self, story_ids: set[str], written: dict[str, Member],
                     merged_away: set[str]) -> dict[str, list[Member]]:
        """Every member of each story: the stored ones (as of the last refresh) with this call's writes applied."""
        out: dict[str, list[Member]] = {s: [] for s in story_ids}
        if not story_ids:
            return out
        seen: set[str] = set()
        for ms in self.store.members(story_ids | merged_away).values():
            for m in ms:
                m = written.get(m.article_id, m)
                seen.add(m.article_id)
                if m.story_id in out:
                    out[m.story_id].append(m)
        for aid, m in written.items():
            if aid not in seen and m.story_id in out:
                out[m.story_id].append(m)
        return out

    def forget(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            with translated(self.es):
                self.store.forget(article_ids)

    def sync(self, assignment: Assignment, *, written: Iterable[str] = (), restamp: Iterable[str] = ()) -> int:
        """`finish` for one assignment (articles in `written` were just written with their story)."""
        touched = Touched()
        touched.add(assignment, {a: assignment.stories[s] for a in written
                                 if (s := assignment.story_of.get(a)) in assignment.stories})
        touched.stories.update(assignment.stories)  # stories of one included: stored copies lack the fields
        return self.finish(touched, restamp=restamp, policy=Policy.EXACT)

    def finish(self, touched: Touched, *, restamp: Iterable[str] = (), policy: Policy = Policy.GROWING) -> int:
        """Bring the copies of the stories touched up to date as `policy` says (see `freshness`), and
        re-key the claims of the articles that moved to another story (and of `restamp`: stored articles
        given their first story). Returns the number of article documents updated."""
        with translated(self.es):
            if touched.stories:
                self.store.refresh()  # the batches' last writes: once per task, not once per batch
            members = self.store.members(touched.stories)
            actions: list[dict[str, Any]] = []
            marks: list[dict[str, Any]] = []
            story_of: dict[str, str] = {}
            for story_id, ms in members.items():
                if not ms:
                    continue
                story = summarize(story_id, ms)
                doc = story.model_dump(mode="json")
                for m in ms:
                    story_of[m.article_id] = story_id
                    just = touched.written.get(m.article_id)
                    stored = (m.written_size, m.stale)
                    if just is not None:
                        m = replace(m, written_size=just.size)
                    if just == story:
                        written = story.size
                    elif rewrite(m, story, policy, moved=m.article_id in touched.moved):
                        actions.append({"_op_type": "update", "retry_on_conflict": CONFLICT_RETRIES,
                                        "_index": self.names.articles, "_id": m.article_id, "doc": {"story": doc}})
                        written = story.size
                    else:
                        written = m.written_size
                    stale = written != story.size
                    if (written, stale) != stored:
                        marks.append(self.store.mark(m.article_id, written_size=written, stale=stale))
            updated = len(actions)
            actions += self._claim_updates(touched.moved | set(restamp), story_of)
            bulk_update(self.es, actions + marks, what="story")
        return updated

    def settle(self, quiet: timedelta, *, limit: int = SETTLE_STORIES, now: datetime | None = None) -> int:
        """Rewrite the stale copies of stories that no copy has joined for `quiet` (at most `limit`
        stories per call, the longest quiet first); returns the number of article documents updated."""
        now = now or datetime.now(UTC)
        with translated(self.es):
            self.store.refresh()  # the marks of an earlier call, or of a task that just ended
            quiet_ones = self.store.stale_stories(before=now - quiet, limit=limit)
            if not quiet_ones:
                return 0
            return self.finish(Touched(stories=set(quiet_ones)), policy=Policy.SETTLE)

    def _claim_updates(self, article_ids: set[str], story_of: dict[str, str]) -> list[dict[str, Any]]:
        """Claims found by id (real-time gets: a copy written a moment ago may not be searchable yet)."""
        if not article_ids:
            return []
        stored = self.es.mget(index=self.names.articles, ids=sorted(article_ids), _source=["claim_ids"])
        claim_ids = [c for d in stored["docs"] if d.get("found") for c in d["_source"].get("claim_ids") or []]
        out: list[dict[str, Any]] = []
        for start in range(0, len(claim_ids), 1000):
            docs = self.es.mget(index=self.names.claims, ids=claim_ids[start:start + 1000],
                                _source=["article_id", "text", "speaker"])["docs"]
            for doc in docs:
                src = doc.get("_source") or {}
                story_id = story_of.get(src.get("article_id", ""))
                if not doc.get("found") or not story_id:
                    continue
                speaker = src.get("speaker") or {}
                key = claim_key_of(story_id, speaker.get("entity_id") or speaker.get("name") or "",
                                   src.get("text", ""))
                out.append({"_op_type": "update", "retry_on_conflict": CONFLICT_RETRIES, "_index": self.names.claims, "_id": doc["_id"],
                            "doc": {"story": {"id": story_id, "claim_key": key}}})
        return out
