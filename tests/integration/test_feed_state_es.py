"""FeedState in a real Elasticsearch: survives a new store (a restart), and the poller uses it."""

import uuid
from datetime import UTC, datetime

import pytest

from pipeline.config import load_settings
from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.poller import poll_feeds
from pipeline.feeds.state import FEED_STATE_MAPPING, ElasticsearchFeedStateStore, FeedState, FeedStateStore
from pipeline.outcomes import Status
from simulator import Simulator

pytestmark = pytest.mark.integration


@pytest.fixture()
def index(es_client):
    name = f"test-feeds-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(index=name, mappings=FEED_STATE_MAPPING)  # the set-up step's job, not the store's
    yield name
    es_client.indices.delete(index=name, ignore_unavailable=True)


def test_state_round_trips_and_survives_a_new_store(es_client, index):
    store = ElasticsearchFeedStateStore(es_client, index=index)
    assert isinstance(store, FeedStateStore)
    when = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    store.put_many([FeedState(feed_id="a", url="https://a.example/rss", etag='"x"', next_poll_at=when,
                              recent_hashes=["h1", "h2"], disabled=True, disabled_reason="410"),
                    FeedState(feed_id="b")])
    restarted = ElasticsearchFeedStateStore(es_client, index=index)
    a = restarted.get("a")
    assert (a.etag, a.next_poll_at, a.recent_hashes, a.disabled) == ('"x"', when, ["h1", "h2"], True)
    assert set(restarted.get_many(["a", "b", "missing"])) == {"a", "b"}
    assert restarted.get("missing") is None
    es_client.indices.refresh(index=index)
    assert {s.feed_id for s in restarted.all()} == {"a", "b"}
    mapping = es_client.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["properties"]["next_poll_at"]["type"] == "date"


def test_second_poll_after_restart_yields_no_new_entries(es_client, index):
    settings = load_settings({}, allow_private_addresses=True, allowed_private_networks="127.0.0.0/8",
                             per_host_delay=0.0)
    with Simulator() as sim:
        sim.add_article("world", "One")
        sim.add_article("world", "Two")
        feed = FeedConfig(id="world", name="World", url=sim.feed_url("world"))
        [first] = poll_feeds([feed], ElasticsearchFeedStateStore(es_client, index=index), settings)
        assert len(first.new_entries) == 2
        sim.set_behaviour("/feeds/world.xml", lying_etag=True)  # force a full 200 response
        [second] = poll_feeds([feed], ElasticsearchFeedStateStore(es_client, index=index), settings)
        assert second.outcome.status in (Status.OK, Status.NOT_MODIFIED) and second.new_entries == []
        sim.add_article("world", "Three")
        [third] = poll_feeds([feed], ElasticsearchFeedStateStore(es_client, index=index), settings)
        assert [e.title for e in third.new_entries] == ["Three"]
