"""Typed records passed between stages: FeedEntry -> FetchedPage -> Article -> TaggedArticle.

Each stage returns a new record; the article id derives from the canonical URL so re-runs upsert.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pipeline.outcomes import Outcome
from pipeline.tagging.schema import TagResult


def article_id_for(canonical_url: str) -> str:
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


class FeedEntry(BaseModel):
    """One item seen in a feed, before its page is fetched."""

    model_config = ConfigDict(frozen=True)

    feed_id: str
    feed_name: str = ""
    url: str
    canonical_url: str
    article_id: str
    guid: str | None = None
    title: str | None = None
    summary: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    seen_at: datetime | None = None


class FetchedPage(BaseModel):
    """The raw result of fetching one article URL. `body` is None unless the fetch succeeded."""

    entry: FeedEntry
    final_url: str
    outcome: Outcome
    http_status: int | None = None
    content_type: str | None = None
    charset: str | None = None
    body: str | None = None
    fetched_at: datetime | None = None
    elapsed_ms: float | None = None


class Article(BaseModel):
    """Extracted article text and metadata (or the reason there is none)."""

    article_id: str
    url: str
    canonical_url: str
    outcome: Outcome
    feed_ids: list[str] = Field(default_factory=list)
    feed_names: list[str] = Field(default_factory=list)
    site: str | None = None
    domain: str | None = None
    title: str | None = None
    text: str = ""
    summary: str | None = None
    description: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    image: str | None = None
    content_hash: str | None = None


class Story(BaseModel):
    """The story an article belongs to: every near-duplicate copy of one article (pipeline.stories).

    `id` is the same for every copy and never changes once given (stories that turn out to be one
    keep the id of the one whose first copy came first)."""

    id: str
    size: int = 1
    first_seen_at: datetime | None = None
    first_url: str | None = None
    outlets: list[str] = Field(default_factory=list)
    outlet_count: int = 1

    @classmethod
    def single(cls, article: Article) -> Story:
        outlet = article.domain or article.site
        return cls(id=article.article_id, size=1, first_seen_at=article.fetched_at, first_url=article.url,
                   outlets=[outlet] if outlet else [], outlet_count=1)


class TaggedArticle(BaseModel):
    """An article plus its claims and entities; what gets indexed."""

    article: Article
    tags: TagResult
    story: Story | None = None  # None: a story of its own


class Processed(BaseModel):
    """What extraction and tagging made of a batch: the tagged articles, and one failure event per
    item that did not become one. What the process pool returns, and what the spool keeps while
    Elasticsearch is away."""

    articles: list[TaggedArticle] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)

    def __add__(self, other: Processed) -> Processed:
        return Processed(articles=self.articles + other.articles, events=self.events + other.events)


class Event(BaseModel):
    """A failure or notable outcome, indexed in newswatch-events so operators can search them.

    `event_id` is deterministic (stage + subject + status + run) so a retried task upserts.
    """

    event_id: str
    at: datetime
    stage: str  # feeds | fetch | extract | tag | index | run
    status: str  # an outcomes.Status value or a run-level label
    reason: str = ""
    retryable: bool = False
    feed_id: str | None = None
    url: str | None = None
    article_id: str | None = None
    run_id: str | None = None
    attempt: int | None = None
    http_status: int | None = None
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


Processed.model_rebuild()
