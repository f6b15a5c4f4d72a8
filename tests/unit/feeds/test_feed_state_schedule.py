from datetime import UTC, datetime, timedelta

from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.schedule import due_feeds, failure_backoff, next_interval
from pipeline.feeds.state import (
    FEED_STATE_MAPPING,
    RECENT_HASHES,
    FeedState,
    FeedStateStore,
    InMemoryFeedStateStore,
    JsonFileFeedStateStore,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _feed(i, **kw):
    return FeedConfig(id=f"f{i}", name=f"F{i}", url=f"https://x.example/{i}.xml", **kw)


def test_stores_round_trip_and_json_file_survives_restart(tmp_path):
    path = tmp_path / "state" / "feeds.json"
    for store in (InMemoryFeedStateStore(), JsonFileFeedStateStore(path)):
        assert isinstance(store, FeedStateStore)
        s = FeedState(feed_id="a", url="https://a", etag='"1"', next_poll_at=NOW, recent_hashes=["h1"])
        store.put(s)
        store.put_many([FeedState(feed_id="b")])
        s.etag = "mutated after put"
        assert store.get("a").etag == '"1"'
        assert set(store.get_many(["a", "b", "zz"])) == {"a", "b"}
        assert {x.feed_id for x in store.all()} == {"a", "b"}
    reopened = JsonFileFeedStateStore(path)
    assert reopened.get("a").next_poll_at == NOW
    assert reopened.get("a").recent_hashes == ["h1"]


def test_recent_hashes_are_bounded_and_ordered():
    s = FeedState(feed_id="a")
    s.remember(f"h{i}" for i in range(RECENT_HASHES + 10))
    assert len(s.recent_hashes) == RECENT_HASHES and s.recent_hashes[0] == "h10"  # oldest dropped
    s.remember([f"h{RECENT_HASHES + 9}", "new"])
    assert s.recent_hashes[-2:] == [f"h{RECENT_HASHES + 9}", "new"]
    assert len(s.recent_hashes) == RECENT_HASHES and len(set(s.recent_hashes)) == RECENT_HASHES


def test_mapping_covers_every_state_field():
    assert set(FEED_STATE_MAPPING["properties"]) == set(FeedState.model_fields)


def test_due_feeds():
    store = InMemoryFeedStateStore()
    feeds = [_feed(i) for i in range(6)] + [_feed(9, enabled=False)]
    store.put_many([
        FeedState(feed_id="f1", url=feeds[1].url, next_poll_at=NOW + timedelta(minutes=5)),
        FeedState(feed_id="f2", url=feeds[2].url, next_poll_at=NOW - timedelta(minutes=1)),
        FeedState(feed_id="f3", url=feeds[3].url, disabled=True, disabled_reason="x"),
        FeedState(feed_id="f4", url=feeds[4].url, next_poll_at=NOW - timedelta(hours=1),
                  retry_after_until=NOW + timedelta(minutes=1)),
        FeedState(feed_id="f5", url="https://old.example/moved.xml", disabled=True),  # url changed: poll again
    ])
    assert [f.id for f in due_feeds(feeds, store, NOW)] == ["f0", "f5", "f2"]


def test_adaptive_interval_within_bounds_and_hint():
    feed = _feed(0, min_interval=300, max_interval=3600)
    base = FeedState(feed_id="f0", interval=1200)
    assert next_interval(feed, base, 0.9, changed=True) == 600
    assert next_interval(feed, base, 0.3, changed=True) == 1200
    assert next_interval(feed, base, 0.0, changed=True) == 1800
    assert next_interval(feed, base, None, changed=False) == 1800
    assert next_interval(feed, FeedState(feed_id="f0", interval=400), 1.0, changed=True) == 300
    assert next_interval(feed, FeedState(feed_id="f0", interval=3000), 0.0, changed=True) == 3600
    hinted = FeedState(feed_id="f0", interval=600, hint_interval=1800)
    assert next_interval(feed, hinted, 1.0, changed=True) == 1800  # never sooner than the feed's ttl


def test_failure_backoff_grows_and_honours_retry_after():
    feed = _feed(0, min_interval=300, max_interval=3600)
    assert [failure_backoff(feed, n, None) for n in (1, 2, 3, 10)] == [300, 600, 1200, 3600]
    assert failure_backoff(feed, 1, 7200) == 7200
