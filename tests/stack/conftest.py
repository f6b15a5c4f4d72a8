"""The local distributed stack for the tests in this folder, started once per session.

`stack` brings up PostgreSQL, Redis, a three-node Elasticsearch cluster and Airflow (API server,
scheduler, dag-processor, triggerer, two Celery workers) with `pipeline.stack`, exactly as
`newswatch stack up` does, in a temporary folder; it takes the stack down at the end and checks that
no process of it is left. The session's pytest process owns the stack: if pytest itself is killed, the
stack's watchdog stops every process and deletes the folders.

What differs from a production .env, all of it to make faults observable within the time of a test:
- AIRFLOW_DAGS_PAUSED_AT_CREATION=true, and the scheduler creates no scheduled runs
  ([scheduler] use_job_schedule=False): the only runs are the ones the tests trigger;
- NEWSWATCH_RETRY_DELAY_SECONDS=1, and a task whose worker died is declared dead after 20 s of silence
  instead of 5 minutes ([scheduler] task_instance_heartbeat_timeout);
- four task slots per worker, and NEWSWATCH_INGEST_PROCESSES=1: two workers on two cores, each
  `process` task on one core (the setting the README gives for one process task per core).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_helpers import DAG

DOTENV = {
    "AIRFLOW_DAGS_PAUSED_AT_CREATION": "true",
    "NEWSWATCH_RETRY_DELAY_SECONDS": "1",
    "NEWSWATCH_INGEST_PROCESSES": "1",
}
EXTRA_ENV = {
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
}


def _missing_system_packages() -> list[str]:
    from pipeline.stack import postgres
    from pipeline.stack.errors import StackError

    missing = [] if shutil.which("redis-server") else ["redis-server"]
    try:
        postgres.bin_dir()
    except StackError:
        missing.append("postgresql")
    return missing


@pytest.fixture(scope="session")
def stack() -> Iterator[Any]:
    missing = _missing_system_packages()
    if missing:
        pytest.skip(f"the local stack needs {', '.join(missing)} (scripts/system-packages installs them)")
    from pipeline.stack.processes import marked
    from pipeline.stack.stack import Stack

    root = Path(tempfile.mkdtemp(prefix="newswatch-stack-"))
    stack = Stack.open(root, workers=2, es_nodes=3, worker_concurrency=4, dotenv=DOTENV, extra_env=EXTRA_ENV,
                       owner_pid=os.getpid(), remove_with_owner=True)
    try:
        stack.up(timeout=420)
        stack.api().set_paused(DAG, False)
        yield stack
    finally:
        stack.down(timeout=30)
        left = [f"{p.pid} {' '.join(p.cmdline()[:3])}" for p in marked(stack.config.stack_id, stack.config.service_dirs())]
        stack.remove()
    assert not left, f"processes of the stack outlived `down`: {left}"


@pytest.fixture(scope="session")
def api(stack: Any) -> Any:
    return stack.api()


@pytest.fixture(scope="session")
def es(stack: Any) -> Iterator[Any]:
    client = stack.es_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def sim() -> Iterator[Any]:
    from simulator import Simulator

    server = Simulator(name="Stack test news")
    server.start()
    try:
        yield server
    finally:
        server.stop()
