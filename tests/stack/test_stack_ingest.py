"""news_ingest through the stack with the production defaults of the process task: a worker pool of
one process per core, started inside a Celery worker's task process."""

from __future__ import annotations

import pytest
from stack_helpers import DAG, assert_exactly_once, configure_run, make_site, spool_empty, task_errors

pytestmark = pytest.mark.integration


def test_process_task_runs_its_worker_pool_under_celery(stack, api, es, sim, tmp_path):
    site = make_site(sim, "pool", ok=3, held=0, hold=0)
    configure_run(api, site, tmp_path, ingest_processes=0)  # compose's default: one per core
    run_id = api.trigger(DAG, {"force": True})
    run = api.wait_for_run(DAG, run_id, timeout=240)
    process = api.tries(DAG, run_id, "process", map_index=0)
    assert run["state"] == "success", task_errors(stack, run_id, "process")
    assert [t["try_number"] for t in process] == [1]
    from pipeline.jobs.pool import available_cores

    manifest = api.xcom(DAG, run_id, "process", map_index=0)
    assert manifest["workers"] == (available_cores() if available_cores() > 1 else 0) and manifest["redone"] == 0
    counts = assert_exactly_once(es, site)
    assert counts["articles"] == 3 and counts["events"] == 2
    assert spool_empty(stack)
