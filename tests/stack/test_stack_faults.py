"""A part of the distributed stack fails while news_ingest has work in flight; every entry still ends
indexed or as an event exactly once, and nothing is duplicated.

Each test serves its own feed from the simulator: ordinary articles, a 404 and a one-line brief (both
end as events), and articles whose pages are held back the first time they are asked for, so the
`process` task is certainly in flight when the test strikes. The fault is injected only once the task
has asked for a held page.
"""

from __future__ import annotations

import pytest
from stack_helpers import (
    DAG,
    assert_exactly_once,
    celery_results,
    configure_run,
    indexed_count,
    make_site,
    spool_empty,
    task_done,
    task_running,
    task_state,
    wait_until,
)

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 240


def _trigger(api, sim, tmp_path, name: str, *, ok: int, held: int, hold: float):
    site = make_site(sim, name, ok=ok, held=held, hold=hold)
    configure_run(api, site, tmp_path)
    run_id = api.trigger(DAG, {"force": True})
    ti = wait_until(lambda: site.held_requested() and task_running(api, run_id, "process"), 180,
                    "the process task asking for a held page")
    return site, run_id, ti


def test_worker_killed_during_process_is_retried_on_the_other_worker(stack, api, es, sim, tmp_path):
    site, run_id, ti = _trigger(api, sim, tmp_path, "kill", ok=6, held=2, hold=120)
    (victim,) = [w for w in stack.config.workers if ti["pid"] in stack.process_tree(w)]
    (survivor,) = [w for w in stack.config.workers if w != victim]
    for path in site.held_paths:  # the retry finds them slow too, long enough to see where it runs
        sim.set_behaviour(path, delay=2, times=1)
    # The worker reports a task's success to Airflow when the task ends, but its Celery task (which
    # writes the result) goes on until the supervisor has seen the task process exit, up to
    # [workers] min_heartbeat_interval (5 s) later. By then `process` may be running: strike only once
    # the tasks before it have their results, so that the only work the kill interrupts is `process`.
    wait_until(lambda: (r := celery_results(stack, run_id)) and set(r.values()) == {"SUCCESS"}
               and {k.split(" try ")[0] for k in r} == {"select_due[-1]", "poll[0]", "plan[-1]"}, 30,
               lambda: f"Celery's results of the tasks before process (now: {celery_results(stack, run_id)})")
    assert (task_running(api, run_id, "process") or {}).get("pid") == ti["pid"]  # held still: the kill lands in it
    assert stack.kill(victim) >= 3  # the worker, its pool process, the task process (and its children)
    try:
        retry = wait_until(lambda: (t := task_running(api, run_id, "process")) and t["try_number"] > 1 and t,
                           120, "the process task's retry")
        assert retry["pid"] in stack.process_tree(survivor), "the retry did not run on the other worker"
    finally:
        stack.start(victim)  # back for the tests after this one, while the run goes on
    run = api.wait_for_run(DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success"
    tries = api.tries(DAG, run_id, "process", map_index=0)
    assert [t["try_number"] for t in tries] == [1, 2]
    assert tries[0]["pid"] == ti["pid"] and tries[0]["state"] != "success"
    assert tries[1]["state"] == "success"
    counts = assert_exactly_once(es, site)
    assert counts["articles"] == 8 and counts["events"] == 2
    assert spool_empty(stack)
    # every task went through Celery, its result in PostgreSQL (written once the task process has exited)
    results = wait_until(lambda: (r := celery_results(stack, run_id)) and set(r.values()) == {"SUCCESS"} and r, 60,
                         lambda: f"Celery's results of the run's tasks (now: {celery_results(stack, run_id)})")
    assert {k.split(" try ")[0] for k in results} == {
        "select_due[-1]", "poll[0]", "plan[-1]", "process[0]", "index[0]", "summarize[-1]", "settle_stories[-1]"}
    assert len(results) == 7 and "process[0] try 2" in results


def test_elasticsearch_node_lost_while_indexing(stack, api, es, sim, tmp_path):
    canary = "nwstack-canary"  # something searchable that the lost node may have held
    es.indices.create(index=canary, settings={"number_of_shards": 1, "number_of_replicas": 1})
    es.index(index=canary, id="1", document={"title": "still here"}, refresh=True)
    es.cluster.health(index=canary, wait_for_status="green", timeout="60s")
    # the process task is fetching; the held article reaches the index only after the node is gone
    # (copies of stories already stored are written when the task ends: pipeline/jobs/sink.py)
    site, run_id, _ = _trigger(api, sim, tmp_path, "esnode", ok=4, held=1, hold=15)
    (victim,) = [s["node"] for s in es.cat.shards(index="newswatch-articles", format="json") if s["prirep"] == "p"]
    stack.kill(victim)
    try:
        before = indexed_count(es, site)
        health = es.cluster.health(wait_for_nodes="2", timeout="60s")
        assert (health["number_of_nodes"], health["status"]) == (2, "yellow")
        assert es.get(index=canary, id="1")["_source"] == {"title": "still here"}  # searches go on
        assert es.count(index=canary, query={"match": {"title": "still"}})["count"] == 1
        run = api.wait_for_run(DAG, run_id, timeout=RUN_TIMEOUT)
        assert run["state"] == "success"
        assert before < len(site.ok_urls), "everything was indexed before the node went away"
        counts = assert_exactly_once(es, site)  # writes went on: the rest went to the other two
        assert counts["articles"] == 5 and counts["events"] == 2
    finally:
        stack.start(victim)
        health = es.cluster.health(wait_for_nodes="3", wait_for_status="green", timeout="120s")
        es.indices.delete(index=canary)
    assert (health["number_of_nodes"], health["status"]) == (3, "green")
    assert spool_empty(stack)


def test_redis_restarted_during_a_run(stack, api, es, sim, tmp_path):
    site, run_id, _ = _trigger(api, sim, tmp_path, "redis", ok=4, held=1, hold=8)
    stack.stop("redis")
    try:
        # the task finishes without the broker; the scheduler has tasks to queue while it is away
        wait_until(lambda: task_done(api, run_id, "process"), 120, "the process task to end")
        assert stack.pid("redis") is None
    finally:
        stack.start("redis")
    run = api.wait_for_run(DAG, run_id, timeout=RUN_TIMEOUT)
    wait_until(lambda: all(s.ready for s in stack.status() if s.service in stack.config.workers), 60,
               "both workers back on the broker")
    assert run["state"] == "success"
    assert task_state(api, run_id, "summarize")["state"] == "success"
    counts = assert_exactly_once(es, site)
    assert counts["articles"] == 5 and counts["events"] == 2
    assert spool_empty(stack)


def test_scheduler_restarted_during_a_run(stack, api, es, sim, tmp_path):
    site, run_id, ti = _trigger(api, sim, tmp_path, "scheduler", ok=4, held=1, hold=8)
    stack.stop("scheduler")
    try:
        # the worker finishes the task and reports it to the API server; nothing schedules what follows
        wait_until(lambda: task_done(api, run_id, "process"), 120, "the process task to end")
        assert api.run(DAG, run_id)["state"] == "running"
        assert task_state(api, run_id, "summarize")["state"] in (None, "scheduled", "queued")
    finally:
        stack.start("scheduler")
    run = api.wait_for_run(DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success"
    tries = api.tries(DAG, run_id, "process", map_index=0)
    assert [(t["try_number"], t["pid"], t["state"]) for t in tries] == [(1, ti["pid"], "success")]
    counts = assert_exactly_once(es, site)
    assert counts["articles"] == 5 and counts["events"] == 2
    assert spool_empty(stack)
