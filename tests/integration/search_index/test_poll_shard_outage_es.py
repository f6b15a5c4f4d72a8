"""The cluster going away between polling and recording the feeds' failures: `poll_shard` raises
ClusterUnavailable (Airflow retries), and the retry records the failure events, once, without
polling again (a second poll would find nothing: polling saved the feeds' state)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_index_unavailable_es import DyingProxy

from pipeline.config import Settings, load_settings
from pipeline.index.errors import ClusterUnavailable
from pipeline.index.names import IndexNames
from pipeline.index.setup import ensure_indices
from pipeline.jobs import ingest
from pipeline.jobs.events import event_id
from pipeline.spool import ENTRIES, RUNS, Spool
from simulator import Simulator

pytestmark = pytest.mark.integration

BODY = ("The minister said on Tuesday that the bridge would reopen in two weeks. \"We are confident the "
        "repairs are sound,\" said Maria Lopez, a spokeswoman for the ministry.\n\n") * 3


def _through(es_url: str, settings: Settings) -> Settings:
    return load_settings({}, es_url=es_url, index_prefix=settings.index_prefix, es_request_timeout=5,
                         allow_private_addresses=True, allowed_private_networks="127.0.0.0/8", per_host_delay=0.0)


def _events(es_client, settings: Settings) -> dict[str, tuple[str, str]]:
    index = IndexNames(settings.index_prefix).events
    es_client.indices.refresh(index=index)
    hits = es_client.search(index=index, query={"term": {"run_id": "r"}}, size=20)["hits"]["hits"]
    return {h["_id"]: (h["_source"]["feed_id"], h["_source"]["status"]) for h in hits}


def test_feed_failures_are_recorded_once_by_the_retry_after_the_cluster_went_away(
        es_url, es_client, settings, tmp_path: Path):
    ensure_indices(es_client, settings)
    with Simulator(name="Outage Gazette") as site:
        site.add_article("world", "Bridge story", BODY, slug="bridge")
        site.add_feed("down")
        site.set_behaviour("/feeds/down.xml", status=500)
        shard = {"run_key": "r", "shard": 0, "feeds": [
            {"id": "world", "name": "World", "url": site.feed_url("world")},
            {"id": "down", "name": "Down", "url": site.feed_url("down")},
            {"id": "gone", "name": "Gone", "url": site.feed_url("gone")},
        ]}
        spool = Spool(tmp_path / "spool")
        proxy = DyingProxy(es_url, bulks_allowed=1)  # the feeds' states get through, the events do not

        with pytest.raises(ClusterUnavailable):
            ingest.poll_shard(shard, spool, _through(proxy.url, settings))
        assert proxy.dead.is_set() and _events(es_client, settings) == {}
        assert [r["canonical_url"] for r in spool.read(ENTRIES, "r.s0")] == [site.url("/articles/bridge.html")]

        back = _through(es_url, settings)
        polled = ingest.poll_shard(shard, spool, back)  # the retry, with the cluster back
        assert (polled["feeds_polled"], polled["new_entries"], polled["failures"]) == (
            3, 1, {"feeds:http_error": 2})
        assert site.hits("/feeds/world.xml") == site.hits("/feeds/down.xml") == 1  # not polled again
        recorded = _events(es_client, settings)
        assert recorded == {event_id("feeds", "down", "http_error", "r"): ("down", "http_error"),
                            event_id("feeds", "gone", "http_error", "r"): ("gone", "http_error")}
        assert spool.read_json(RUNS, "r.poll-0") == dict(polled)

        assert ingest.poll_shard(shard, spool, back) == polled  # a later retry adds nothing
        assert _events(es_client, settings) == recorded
