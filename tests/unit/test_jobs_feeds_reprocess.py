"""feeds_sync actions on an in-memory state store, and the reprocess selection query."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.feeds.state import FeedState, InMemoryFeedStateStore
from pipeline.jobs import feeds, reprocess


@pytest.fixture
def store(monkeypatch) -> InMemoryFeedStateStore:
    memory = InMemoryFeedStateStore()
    monkeypatch.setattr(feeds, "_store", lambda settings: memory)
    return memory


def test_sync_gives_every_configured_feed_a_state_and_reports_problems(store, tmp_path: Path):
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text("feeds:\n- {id: a, name: A, url: 'https://a.example/rss'}\n"
                          "- {id: b, name: B, url: 'not a url'}\n")
    store.put(FeedState(feed_id="gone", url="https://gone.example/rss"))
    report = feeds.sync_feeds(load_settings({}, feeds_file=str(feeds_file)))
    assert report["feeds"] == 1 and report["new_states"] == 1
    assert report["orphaned_states"] == ["gone"]
    assert len(report["invalid"]) == 1 and "url" in report["invalid"][0]
    assert store.get("a").url == "https://a.example/rss"
    assert feeds.sync_feeds(load_settings({}, feeds_file=str(feeds_file)))["new_states"] == 0  # idempotent


def test_pause_resume_reset(store):
    settings = load_settings({})
    store.put(FeedState(feed_id="a", url="https://a.example/rss", etag='"x"', consecutive_failures=4))
    assert feeds.set_feed(settings, "pause", "a")["disabled"] is True
    assert store.get("a").disabled_reason == feeds.PAUSED_REASON
    feeds.set_feed(settings, "resume", "a")
    state = store.get("a")
    assert not state.disabled and state.consecutive_failures == 0 and state.etag == '"x"'
    feeds.set_feed(settings, "reset", "a")
    assert store.get("a").etag is None and store.get("a").url == "https://a.example/rss"


@pytest.mark.parametrize(("action", "feed_id", "message"), [("explode", "a", "unknown action"),
                                                           ("pause", "", "needs a feed_id"),
                                                           ("pause", "nope", "no feed state")])
def test_bad_actions_change_nothing(store, action, feed_id, message):
    with pytest.raises(feeds.FeedActionError, match=message):
        feeds.set_feed(load_settings({}), action, feed_id)


def test_reprocess_query_combines_text_dates_and_version():
    q = reprocess.stored_articles_query("river treaty", "2026-11-01", None, "2.0.0")["bool"]
    assert q["must"][0]["simple_query_string"]["query"] == "river treaty"
    assert q["must"][1] == {"range": {"published_at": {"gte": "2026-11-01"}}}
    assert q["must_not"] == [{"term": {"tagger.version": "2.0.0"}}]
    assert reprocess.stored_articles_query()["bool"]["must"] == [{"match_all": {}}]


def test_reprocess_refuses_a_version_it_cannot_produce(tmp_path):
    from pipeline.spool import Spool

    with pytest.raises(reprocess.TaggerVersionMismatch):
        reprocess.select_stored(load_settings({}), Spool(tmp_path), "r", target_version="0.0.0-never")
