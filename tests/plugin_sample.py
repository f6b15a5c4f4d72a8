"""A small, realistic data set for the plugin pages: feeds in every health class, articles and claims
(quoted, unattributed, an unresolved speaker) fetched over the last two days, failure events of
several kinds spread over the last 48 hours, and two watches. Written through the pipeline's own
writers and stores into the real indices under the given prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.alerts.model import Target, Watch, WatchSearch
from pipeline.config import Settings
from pipeline.feeds.state import ElasticsearchFeedStateStore, FeedState
from pipeline.index.names import IndexNames
from pipeline.index.setup import ensure_indices
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.index.writer import IndexWriter
from pipeline.records import Event, TaggedArticle
from pipeline.tagging.schema import Speaker

OUTLETS = ("reuters", "apnews", "bbc", "guardian", "aljazeera", "dw", "france24", "npr", "nhk", "abc-au")
SECTIONS = ("world", "europe", "asia", "business", "politics", "science")
STOLTENBERG = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON")
GUTERRES = EntitySpec("person:antonio-guterres", "Antonio Guterres", "PERSON")
LONG_URL = ("https://www.example-news.org/world/europe/2026/11/28/a-very-long-article-address-that-goes-on-and-on-"
            "about-harbour-fees-and-artillery-shells-and-more-words-to-make-it-wrap-or-clip")

TEXT = ('North Korea may supply more artillery shells, officials warned on Monday.\n\n'
        '"There is no doubt that North Korea is arming Russia," Jens Stoltenberg said.\n\n'
        'Harbour fees rose by 40 percent last year.\n\n'
        '"The ceasefire must hold for the talks to start," Antonio Guterres said.\n\n'
        'The ministry said exports would be cut by half next year.')


@dataclass(frozen=True)
class Sample:
    feed_ids: list[str]
    failing: str  # a failing feed's id
    disabled: str
    busy: str  # the feed most articles came from
    article_urls: list[str]


def feed_ids(n: int) -> list[str]:
    return [f"{OUTLETS[i % len(OUTLETS)]}-{SECTIONS[(i // len(OUTLETS)) % len(SECTIONS)]}"
            + (f"-{i // (len(OUTLETS) * len(SECTIONS))}" if i >= len(OUTLETS) * len(SECTIONS) else "")
            for i in range(n)]


def feed_states(ids: list[str], now: datetime) -> list[FeedState]:
    out = []
    for i, fid in enumerate(ids):
        url = f"https://{fid.split('-')[0]}.example/{fid}/rss.xml" if i else LONG_URL
        polled = now - timedelta(minutes=3 + (i * 7) % 50)
        state = FeedState(feed_id=fid, url=url, status="ok", http_status=200, last_polled_at=polled,
                          last_success_at=polled, next_poll_at=polled + timedelta(minutes=15), interval=900,
                          total_polls=200 + i, total_new_entries=(i * 37) % 400, last_entry_count=20)
        if i % 11 == 3:
            state = state.model_copy(update={"status": "http_error", "http_status": 503, "reason": "HTTP 503 Service "
                                             "Unavailable from the origin server, retrying with backoff",
                                             "consecutive_failures": 1 + i % 5,
                                             "last_success_at": now - timedelta(hours=2 + i)})
        elif i % 17 == 5:
            state = state.model_copy(update={"status": "timeout", "http_status": None, "reason": "read timed out",
                                             "consecutive_failures": 2})
        elif i % 23 == 7:
            state = state.model_copy(update={"status": "parse_error", "disabled": True, "consecutive_failures": 10,
                                             "disabled_reason": "10 failed polls in a row", "next_poll_at": None,
                                             "reason": "not a feed: the page is HTML"})
        elif i % 19 == 9:
            state = FeedState(feed_id=fid, url=url)  # never polled
        elif i % 5 == 1:
            state = state.model_copy(update={"status": "not_modified", "http_status": 304})
        out.append(state)
    return out


def _unresolved_speaker(tagged: TaggedArticle) -> TaggedArticle:
    """The last claim's speaker as the tagger leaves a description it cannot resolve: no name, a mention."""
    claims = list(tagged.tags.claims)
    start = TEXT.index("The ministry")
    claims[-1] = claims[-1].model_copy(update={"speaker": Speaker(name="", mention="The ministry", start=start,
                                                                      end=start + len("The ministry"))})
    return tagged.model_copy(update={"tags": tagged.tags.model_copy(update={"claims": claims})})


def articles(ids: list[str], now: datetime, n: int = 30) -> list[TaggedArticle]:
    out = []
    for i in range(n):
        feed = ids[0] if i % 3 else ids[(i * 7) % len(ids)]
        claims = [ClaimSpec("There is no doubt that North Korea is arming Russia", speaker=STOLTENBERG),
                  ClaimSpec("North Korea may supply more artillery shells", certainty="low", kind="assertion"),
                  ClaimSpec("The ceasefire must hold for the talks to start", speaker=GUTERRES, certainty="medium"),
                  ClaimSpec("exports would be cut by half next year", kind="reported", certainty="medium")]
        url = f"https://{OUTLETS[i % len(OUTLETS)]}.example/news/{i}" if i else LONG_URL
        tagged = tagged_article(url, TEXT, title=f"Shells from North Korea, day {i}: what officials said"
                                + (" — and a title long enough to need clipping in the table" if i == 0 else ""),
                                site=f"{OUTLETS[i % len(OUTLETS)]}.example", entities=[STOLTENBERG, GUTERRES],
                                claims=claims, feed_id=feed, published_at=now - timedelta(hours=i * 1.5 + 1))
        tagged = _unresolved_speaker(tagged)
        article = tagged.article.model_copy(update={"fetched_at": now - timedelta(hours=i * 1.5, minutes=20)})
        out.append(tagged.model_copy(update={"article": article}))
    return out


PATTERN = (0, 1, 1, 2, 3, 0, 4, 1, 5, 0, 1, 2)  # 90 events: 30 timeouts, 23 HTTP 404s, 15 too short, 8 failed polls, 7+7


def events(ids: list[str], now: datetime) -> list[Event]:
    kinds = [("fetch", "http_error", "HTTP 404 Not Found", 404), ("fetch", "timeout", "read timed out", None),
             ("extract", "too_short", "12 words", None), ("feeds", "http_error", "HTTP 503", 503),
             ("fetch", "refused", "robots.txt forbids this URL", None), ("extract", "paywalled", "paywall", None)]
    out = []
    for i in range(90):
        stage, status, reason, http = kinds[PATTERN[i % len(PATTERN)]]
        feed = ids[3] if stage == "feeds" else ids[(i * 5) % len(ids)]
        out.append(Event(event_id=f"sample-{i}", at=now - timedelta(minutes=13 + i * 31), stage=stage,
                         status=status, reason=reason, feed_id=feed, http_status=http,
                         url=None if stage == "feeds" else f"https://{feed.split('-')[0]}.example/story/{i}"))
    return out


def watches(now: datetime) -> list[Watch]:
    a = Watch.new("stoltenberg-nk", WatchSearch(text="North Korea", speakers=["Jens Stoltenberg"], claims=True),
                  Target.parse("webhook:ops"), description="NATO on North Korean arms", now=now - timedelta(days=2))
    a = a.model_copy(update={"state": a.state.model_copy(update={"last_match_at": now - timedelta(hours=3),
                                                                 "last_delivery_at": now - timedelta(hours=3)})})
    b = Watch.new("harbour-fees", WatchSearch(text="harbour fees"), Target.parse("email:desk@example.org"),
                  mode="digest", now=now - timedelta(days=1))
    b = b.model_copy(update={"paused": True, "paused_reason": "the mail server refused the login",
                             "state": b.state.model_copy(update={"consecutive_failures": 3,
                                                                 "failing_since": now - timedelta(hours=30),
                                                                 "last_error": "535 authentication failed"})})
    return [a, b]


def index_sample(es: Any, settings: Settings, n_feeds: int = 60, now: datetime | None = None) -> Sample:
    from pipeline.alerts.run import stores

    now = now or datetime.now(UTC)
    ensure_indices(es, settings)
    ids = feed_ids(n_feeds)
    names = IndexNames(settings.index_prefix)
    writer = IndexWriter(es, settings)
    arts = articles(ids, now)
    assert writer.write(arts).ok
    assert writer.record_events(events(ids, now)).indexed == 90
    ElasticsearchFeedStateStore(es, index=names.feeds).put_many(feed_states(ids, now))
    store, _ = stores(es, settings)
    for w in watches(now):
        store.add(w, replace=True)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    return Sample(feed_ids=ids, failing=ids[3], disabled=ids[7], busy=ids[0],
                  article_urls=[t.article.url for t in arts])
