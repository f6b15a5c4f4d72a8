"""Fault injection: Elasticsearch disappears while a chunk is being processed, before it is indexed.

The cluster is reached through a real TCP relay the test switches off as soon as the run's chunks
are planned. The process task still fetches and tags, keeps what it could not index in the spool,
the index task fails with ClusterUnavailable, and when the relay is back Airflow's retry indexes
the batch exactly once.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from dag_helpers import DEMO_SITE, SwitchableProxy, drop_indices, newswatch_env, run_ingest, task_tries

pytestmark = pytest.mark.integration

PREFIX = f"nwdag-fault-{uuid.uuid4().hex[:8]}"
N_ARTICLES = 3


class Outage(threading.Thread):
    """Cuts the cluster off as soon as the run's chunks are planned (before anything is indexed);
    restores it once the index task has given up (no connection attempt for `quiet` seconds)."""

    def __init__(self, proxy: SwitchableProxy, spool, quiet: float = 1.0, timeout: float = 300) -> None:
        super().__init__(daemon=True, name="outage")
        self.proxy, self.spool, self.quiet, self.timeout = proxy, spool, quiet, timeout
        self.batches_during_outage: list[str] = []

    def run(self) -> None:
        from pipeline.spool import ENTRIES, TAGGED

        deadline = time.monotonic() + self.timeout
        while not any(".c" in k for k in self.spool.keys(ENTRIES)) and time.monotonic() < deadline:
            time.sleep(0.005)
        self.proxy.up = False
        while self.proxy.refused == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = -1
        while seen != self.proxy.refused and time.monotonic() < deadline:
            seen = self.proxy.refused
            time.sleep(self.quiet)
        self.batches_during_outage = self.spool.keys(TAGGED)
        self.proxy.up = True


@pytest.fixture
def small_site():
    from simulator import Simulator, load_site

    items = [i for f in load_site(DEMO_SITE).feeds for i in f.items if len(i.body or "") > 1500][:N_ARTICLES]
    sim = Simulator()
    sim.start()
    sim.add_feed("fault", title="Fault feed")
    for item in items:
        sim.add_article("fault", item.title, item.body, slug=f"fault-{item.slug}")
    yield sim
    sim.stop()


def test_batch_survives_elasticsearch_outage_and_is_indexed_exactly_once(es_url, es_client, airflow_db, small_site,
                                                                         tmp_path):
    from newswatch_airflow.runner import prepare_airflow

    from pipeline.jobs.ingest import run_key_for
    from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool, default_root

    prepare_airflow()
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(f"feeds:\n- {{id: fault, name: Fault feed, url: '{small_site.feed_url('fault')}'}}\n")
    proxy = SwitchableProxy(es_url)
    spool = Spool(default_root(str(tmp_path)))
    outage = Outage(proxy, spool)
    try:
        with newswatch_env(proxy.url, tmp_path, feeds_file, PREFIX):
            outage.start()
            run = run_ingest()
            outage.join(timeout=5)
    finally:
        proxy.close()

    try:
        assert run.state == "success"
        assert proxy.refused >= 1, "the index task never met the outage"
        assert outage.batches_during_outage, "the tagged batch was not kept while Elasticsearch was down"
        assert max(task_tries(run, "index")) >= 2, "the index task should have been retried"

        summary = spool.read_json(RUNS, run_key_for(run.run_id))
        assert summary["articles_indexed"] == N_ARTICLES
        assert spool.keys(TAGGED) == [] and spool.keys(ENTRIES) == []

        es_client.indices.refresh(index=f"{PREFIX}-*")
        assert es_client.count(index=f"{PREFIX}-articles")["count"] == N_ARTICLES
        assert es_client.count(index=f"{PREFIX}-claims")["count"] == summary["claims"]
    finally:
        drop_indices(es_url, PREFIX)
