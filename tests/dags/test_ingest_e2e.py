"""news_ingest end to end through real Airflow (dag.test on SQLite), the simulator and a real
Elasticsearch: feeds in, searchable claims and entities out; a second run polls with 304s and adds
nothing; hostile feeds and pages end as recorded events while the other feeds complete."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from dag_helpers import DEMO_SITE, drop_indices, newswatch_env, run_ingest

pytestmark = pytest.mark.integration

PREFIX = f"nwdag-{uuid.uuid4().hex[:8]}"  # a shared cluster may hold earlier runs
EXPECTED_FAILURES = {
    "fetch:http_error": 1,  # the demo site's 404 page
    "fetch:refused": 1,  # the page robots.txt disallows
    "extract:too_short": 1,  # a one-line brief
}


@pytest.fixture(scope="module")
def site():
    from simulator import Simulator

    sim = Simulator(DEMO_SITE)
    sim.start()
    sim.set_behaviour("/feeds/broken.xml", status=503)
    sim.set_raw("/feeds/garbled.xml", "<rss><channel><title>x</title><item><title>oops", "application/rss+xml")
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def ingest_env(es_url, airflow_db, site, tmp_path_factory):
    from newswatch_airflow.runner import prepare_airflow

    from pipeline.cli.demo import demo_feeds_yaml

    prepare_airflow()
    data_dir = tmp_path_factory.mktemp("ingest-e2e")
    feeds_file = data_dir / "feeds.yaml"
    extra = (f"- {{id: hostile-503, name: Broken feed, url: '{site.url('/feeds/broken.xml')}'}}\n"
             f"- {{id: hostile-garbled, name: Garbled feed, url: '{site.url('/feeds/garbled.xml')}'}}\n")
    feeds_file.write_text(demo_feeds_yaml(DEMO_SITE, site.base_url).replace("feeds:\n", "feeds:\n" + extra, 1))
    with newswatch_env(es_url, data_dir, feeds_file, PREFIX):
        yield data_dir  # default settings: the process task uses one worker process per core
    drop_indices(es_url, PREFIX)


def _summary(data_dir: Path, run) -> dict:
    from pipeline.jobs.ingest import run_key_for
    from pipeline.spool import RUNS, Spool, default_root

    return Spool(default_root(str(data_dir))).read_json(RUNS, run_key_for(run.run_id))


def _asset_event_extra(run_id: str) -> dict:
    """The newswatch_articles asset event the run emitted, for downstream DAGs."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        (event,) = (session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                    .filter(AssetModel.name == "newswatch_articles", AssetEvent.source_run_id == run_id).all())
        return dict(event.extra)


def _process_manifests(run_id: str) -> list[dict]:
    """What the mapped process task returned through XCom."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.run_id == run_id, XComModel.task_id == "process",
                                               XComModel.key == "return_value").all()
        return [XComModel.deserialize_value(row) for row in rows]


def _task_result(run_id: str, task_id: str) -> dict:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        (row,) = session.query(XComModel).filter(XComModel.run_id == run_id, XComModel.task_id == task_id,
                                                 XComModel.key == "return_value").all()
        return XComModel.deserialize_value(row)


def _count(es_client, kind: str) -> int:
    es_client.indices.refresh(index=f"{PREFIX}-{kind}")
    return es_client.count(index=f"{PREFIX}-{kind}")["count"]


def _error_lines(captured) -> list[str]:
    """Error-level lines Airflow and the tasks printed (structlog's `[error    ]`, stdlib's ERROR)."""
    return [line for line in (captured.out + captured.err).splitlines()
            if "[error" in line or "[critical" in line or " ERROR " in line]


def test_feeds_in_searchable_claims_and_entities_out_then_nothing_new(ingest_env, site, es_client, capfd):
    from pipeline.config import load_settings
    from pipeline.search.api import search
    from pipeline.search.query import SearchQuery
    from pipeline.spool import ENTRIES, TAGGED, Spool, default_root
    from pipeline.tagging.aliases import canonical_id

    capfd.readouterr()
    first = run_ingest()
    assert first.state == "success"
    # a successful run logs no errors (operators learn to ignore red lines that are not errors)
    assert _error_lines(capfd.readouterr()) == []
    summary = _summary(ingest_env, first)
    assert summary["feeds_polled"] == 5
    assert summary["articles_indexed"] == 12
    assert summary["claims"] > 50 and summary["entities"] > 30
    by_reason = summary["failures_by_reason"]
    assert {k: by_reason.get(k) for k in EXPECTED_FAILURES} == EXPECTED_FAILURES
    assert any(k.startswith("feeds:") for k in by_reason), by_reason  # the 503 / garbled feeds
    assert summary["pending_batches"] == []
    (processed,) = _process_manifests(first.run_id)
    from pipeline.jobs.pool import available_cores

    cores = available_cores()
    assert (processed["workers"], processed["redone"]) == (cores if cores > 1 else 0, 0)
    assert (processed["articles_indexed"], processed["deferred"]) == (12, 0)  # indexed while streaming
    spool = Spool(default_root(str(ingest_env)))
    assert spool.keys(ENTRIES) == [] and spool.keys(TAGGED) == []

    assert _count(es_client, "articles") == 12
    assert _asset_event_extra(first.run_id) == {"articles_indexed": 12, "claims": summary["claims"],
                                                "entities": summary["entities"], "failures": summary["failures"]}
    claims_before = _count(es_client, "claims")
    assert claims_before == summary["claims"]

    # searchable: a quoted claim with its speaker, and one entity under two names
    settings = load_settings(index_prefix=PREFIX)
    hits = search(es_client, SearchQuery(text="inflation", claims=True, size=20), settings)
    assert hits.total >= 1
    assert any(c.speaker for c in hits.claims)
    ecb = canonical_id("ECB")
    assert ecb and ecb == canonical_id("European Central Bank")
    found = es_client.search(index=f"{PREFIX}-articles", query={"term": {"entity_ids": ecb}})
    assert found["hits"]["total"]["value"] >= 1

    # every failure is an event someone can search
    es_client.indices.refresh(index=f"{PREFIX}-events")
    events = es_client.search(index=f"{PREFIX}-events", size=50, query={"match_all": {}})["hits"]["hits"]
    reasons = {(e["_source"]["stage"], e["_source"]["status"]) for e in events}
    assert {("fetch", "http_error"), ("fetch", "refused"), ("extract", "too_short")} <= reasons
    assert all(e["_source"]["reason"] for e in events)

    # second run: conditional requests answered 304, nothing new, nothing duplicated
    site.reset_hits()
    second = run_ingest()
    assert second.state == "success"
    assert _error_lines(capfd.readouterr()) == []
    again = _summary(ingest_env, second)
    assert again["feeds_not_modified"] >= 3  # the three demo feeds (the garbled one may 304 too)
    assert (again["new_entries"], again["articles_indexed"], again["claims"]) == (0, 0, 0)
    assert site.hits("/feeds/world.xml") == 1
    assert sum(site.hits(f"/articles/{s}.html") for s in ("central-bank-holds-rates", "port-strike-enters-second-week")) == 0
    assert _count(es_client, "articles") == 12
    assert _count(es_client, "claims") == claims_before


def _run(dag_id: str, conf: dict):
    from newswatch_airflow.runner import load_dag

    return load_dag(dag_id).test(run_conf=conf)


def test_reprocess_retags_stored_articles_and_updates_both_indices(ingest_env, es_client):
    from elasticsearch import helpers

    from pipeline.jobs.reprocess import installed_tagger_version

    # pretend the stored articles were tagged by an older tagger
    ids = [h["_id"] for h in helpers.scan(es_client, index=f"{PREFIX}-articles", query={"query": {"match_all": {}}})]
    helpers.bulk(es_client, ({"_op_type": "update", "_index": f"{PREFIX}-articles", "_id": i,
                              "doc": {"tagger": {"version": "0.0.1"}}} for i in ids), refresh=True)
    claims_before = _count(es_client, "claims")

    run = _run("news_reprocess", {"query": "inflation", "since": "", "until": "",
                                  "target_tagger_version": "", "limit": 100})
    assert run.state == "success"
    current = installed_tagger_version()
    es_client.indices.refresh(index=f"{PREFIX}-articles")
    versions = es_client.search(index=f"{PREFIX}-articles", size=0,
                                aggs={"v": {"terms": {"field": "tagger.version"}}})["aggregations"]["v"]["buckets"]
    counts = {b["key"]: b["doc_count"] for b in versions}
    assert 1 <= counts.get(current, 0) < 12 and counts["0.0.1"] == 12 - counts[current]  # only the query's matches

    run = _run("news_reprocess", {"query": "", "since": "2026-11-01", "until": "2026-12-31",
                                  "target_tagger_version": current, "limit": 100})
    assert run.state == "success"
    es_client.indices.refresh(index=f"{PREFIX}-articles")
    versions = es_client.search(index=f"{PREFIX}-articles", size=0,
                                aggs={"v": {"terms": {"field": "tagger.version"}}})["aggregations"]["v"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in versions} == {current: 12}
    assert _count(es_client, "articles") == 12
    assert _count(es_client, "claims") == claims_before  # replaced, not duplicated

    # nothing left to re-tag: the run says why, in its summary
    run = _run("news_reprocess", {"query": "", "since": "", "until": "", "target_tagger_version": "", "limit": 100})
    assert run.state == "success"
    assert _task_result(run.run_id, "summarize")["note"] == (
        f"nothing to re-tag: all 12 stored articles already have tagger version {current}")
    run = _run("news_reprocess", {"query": "no-such-word-anywhere", "since": "", "until": "",
                                  "target_tagger_version": "", "limit": 100})
    assert _task_result(run.run_id, "summarize")["note"] == (
        "nothing to re-tag: none of the 12 stored articles matches the selection (query='no-such-word-anywhere')")

    # a version the installed tagger cannot produce is refused before anything changes
    assert _run("news_reprocess", {"query": "", "since": "", "until": "", "target_tagger_version": "9.9.9",
                                   "limit": 100}).state == "failed"


def test_feeds_sync_loads_state_and_pauses_resumes_resets(ingest_env, es_client):
    def state(feed_id: str) -> dict:
        return es_client.get(index=f"{PREFIX}-feeds", id=feed_id)["_source"]

    assert _run("feeds_sync", {"action": "sync", "source": "", "feed_id": ""}).state == "success"
    assert _run("feeds_sync", {"action": "pause", "source": "", "feed_id": "demo-world"}).state == "success"
    assert state("demo-world")["disabled"] is True

    from pipeline.config import load_settings
    from pipeline.jobs.ingest import select_due

    due = select_due(load_settings(), "probe", force=True)
    assert "demo-world" not in {f["id"] for shard in due for f in shard["feeds"]}
    assert {f["id"] for shard in due for f in shard["feeds"]}  # the other feeds are due

    assert _run("feeds_sync", {"action": "resume", "source": "", "feed_id": "demo-world"}).state == "success"
    assert state("demo-world")["disabled"] is False
    assert state("demo-world")["etag"]  # resume keeps the validators
    assert _run("feeds_sync", {"action": "reset", "source": "", "feed_id": "demo-world"}).state == "success"
    assert state("demo-world")["etag"] is None  # reset forgets them: the next poll starts from scratch
    assert _run("feeds_sync", {"action": "pause", "source": "", "feed_id": "no-such-feed"}).state == "failed"


def test_reprocess_action_stories_gives_stored_articles_their_stories(ingest_env, es_client):
    from elasticsearch import helpers

    # as an index from before stories: no story fields, no fingerprints
    docs = {h["_id"]: {k: v for k, v in h["_source"].items() if k != "story"}
            for h in helpers.scan(es_client, index=f"{PREFIX}-articles", query={"query": {"match_all": {}}})}
    helpers.bulk(es_client, ({"_index": f"{PREFIX}-articles", "_id": i, "_source": d} for i, d in docs.items()),
                 refresh=True)
    helpers.bulk(es_client, ({"_op_type": "delete", "_index": f"{PREFIX}-fingerprints", "_id": i} for i in docs),
                 refresh=True, raise_on_error=False)  # the embedded node has no _delete_by_query
    run = _run("news_reprocess", {"query": "", "since": "", "until": "", "target_tagger_version": "",
                                  "limit": 100, "action": "stories"})
    assert run.state == "success"
    assert _task_result(run.run_id, "summarize")["articles_clustered"] == len(docs)
    es_client.indices.refresh(index=f"{PREFIX}-articles")
    stories = {h["_id"]: h["_source"].get("story") for h in helpers.scan(
        es_client, index=f"{PREFIX}-articles", query={"query": {"match_all": {}}}, _source=["story"])}
    assert set(stories) == set(docs) and all(s and s["id"] and s["size"] >= 1 for s in stories.values())
    assert _count(es_client, "fingerprints") == len(docs)
