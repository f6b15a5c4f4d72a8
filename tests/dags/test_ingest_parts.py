"""A chunk pipelined in parts through real Airflow, the simulator and a real Elasticsearch: forked
workers tag one part while the process task indexes the one before; the index task takes the last.
Every article is indexed once, the summary counts every part, and the spool ends empty."""

from __future__ import annotations

import uuid

import pytest
from dag_helpers import DEMO_SITE, drop_indices, newswatch_env, run_ingest

pytestmark = pytest.mark.integration

PREFIX = f"nwparts-{uuid.uuid4().hex[:8]}"
N_ARTICLES = 6  # the demo site's long articles


@pytest.fixture
def parts_site():
    from simulator import Simulator, load_site

    items = [i for f in load_site(DEMO_SITE).feeds for i in f.items if len(i.body or "") > 1500][:N_ARTICLES]
    assert len(items) == N_ARTICLES
    sim = Simulator()
    sim.start()
    sim.add_feed("parts", title="Parts feed")
    for item in items:
        sim.add_article("parts", item.title, item.body, slug=f"parts-{item.slug}")
    yield sim
    sim.stop()


def test_a_chunk_in_parts_is_indexed_exactly_once(es_url, es_client, airflow_db, parts_site, tmp_path, monkeypatch):
    from newswatch_airflow.runner import prepare_airflow

    from pipeline.jobs import ingest
    from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool, default_root

    prepare_airflow()
    monkeypatch.setattr(ingest, "PART_SIZE", 2)  # three parts of two articles
    monkeypatch.setattr(ingest, "MIN_PER_PROCESS", 1)  # and two workers per part
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(f"feeds:\n- {{id: parts, name: Parts feed, url: '{parts_site.feed_url('parts')}'}}\n")
    spool = Spool(default_root(str(tmp_path)))
    try:
        with newswatch_env(es_url, tmp_path, feeds_file, PREFIX) as env:
            env.setenv("NEWSWATCH_INGEST_PROCESSES", "2")
            run = run_ingest()
        assert run.state == "success"
        key = ingest.run_key_for(run.run_id)
        summary = spool.read_json(RUNS, key)
        assert summary["articles_indexed"] == N_ARTICLES and summary["failures"] == 0
        assert spool.keys(TAGGED) == [] and spool.keys(ENTRIES) == [] and spool.keys(RUNS) == [key]

        es_client.indices.refresh(index=f"{PREFIX}-*")
        assert es_client.count(index=f"{PREFIX}-articles")["count"] == N_ARTICLES
        assert es_client.count(index=f"{PREFIX}-claims")["count"] == summary["claims"] > 0
    finally:
        drop_indices(es_url, PREFIX)
