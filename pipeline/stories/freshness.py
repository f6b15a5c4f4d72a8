"""When the earlier copies of a story get its new fields (pure: no Elasticsearch here).

Every copy of a story carries `story.*`, and a partial update re-indexes the whole article document
(its text, its nested claims and entities). Rewriting every copy whenever a copy arrives would make a
task's cost grow with the size of the stories it touches (a wire story in 300 outlets, polled every
five minutes: 300 rewrites per run). So, while a story grows:

- a copy is written with the story's fields as they are when it is indexed (as of the fingerprints'
  last refresh, plus its own batch);
- an earlier copy is rewritten when the story is small (at most EXACT_UP_TO copies), when its story
  changed id (stories merged), or when the story has grown GROWTH times past the size the copy
  carries; otherwise it is marked stale. So, once a task has ended, a copy's `story.size` is exact
  up to EXACT_UP_TO copies and at least a GROWTH-th of the true size beyond, and each copy is
  rewritten a bounded number of times however long the story runs;
- once the story has been quiet for a while (`Stories.settle`, run by every news_ingest run), its
  stale copies are rewritten with the exact fields.

Search results never show a lagging count: they read each story's fields from the fingerprints index.
"""

from __future__ import annotations

from enum import Enum

from pipeline.records import Story
from pipeline.stories.cluster import Member

EXACT_UP_TO = 16
GROWTH = 4


class Policy(Enum):
    GROWING = "growing"  # at the end of an ingest task
    SETTLE = "settle"  # a quiet story: every copy that is behind
    EXACT = "exact"  # back-fill: every copy not written with these fields just now


def rewrite(member: Member, story: Story, policy: Policy, *, moved: bool = False) -> bool:
    """Whether `member`'s article document gets `story`'s fields now (it was not just written with them)."""
    if policy is Policy.EXACT or moved or member.story_id != story.id:
        return True
    if member.written_size == story.size:
        return False
    return policy is Policy.SETTLE or story.size <= EXACT_UP_TO or story.size >= GROWTH * member.written_size


def may_lag(story: Story) -> bool:
    """A copy written now with `story`'s fields is marked stale at once when later copies will not
    rewrite it: settling then finds it without a second write to its fingerprint."""
    return story.size > EXACT_UP_TO
