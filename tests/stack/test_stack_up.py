"""The stack as `newswatch stack up` starts it: every service answers, on the engines production uses."""

from __future__ import annotations

import subprocess
import sys

import pytest
from stack_helpers import wait_until

pytestmark = pytest.mark.integration


def test_every_service_is_up_and_ready(stack):
    assert [s.service for s in stack.status()] == ["postgres", "redis", "es1", "es2", "es3", "api-server",
                                                   "scheduler", "dag-processor", "triggerer", "worker1", "worker2"]
    # after a fault test, a worker may still be reconnecting to the broker: give it a moment
    wait_until(lambda: all(s.ready for s in stack.status()), 60,
               "every service to be ready")


def test_cli_reports_the_same_stack(stack):
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "stack", "status", "--dir", stack.config.root],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" ready ") == 11


def test_three_node_cluster_with_a_replica_of_every_index(stack, es):
    health = es.cluster.health(wait_for_status="green", timeout="60s")
    assert (health["number_of_nodes"], health["status"]) == (3, "green")
    assert {n["name"] for n in es.cat.nodes(format="json")} == {"es1", "es2", "es3"}
    shards = es.cat.shards(index="newswatch-*", format="json")
    assert shards, "es-setup's indices are missing"
    by_index: dict[str, list[dict]] = {}
    for shard in shards:
        by_index.setdefault(shard["index"], []).append(shard)
    for index, copies in by_index.items():
        assert sorted(c["prirep"] for c in copies) == ["p", "r"], index
        assert len({c["node"] for c in copies}) == 2, f"{index}: primary and replica on one node"


def test_airflow_runs_on_postgres_and_celery(stack):
    env = stack.environment("scheduler")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:")
    from pipeline.stack import postgres

    conn = postgres.connect(stack.config.secrets["POSTGRES_PASSWORD"], stack.config.ports["postgres"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT job_type, count(*) FROM job WHERE state = 'running' GROUP BY job_type")
            running = dict(cur.fetchall())
            # airflow-init's last step: Viewers may read plugins (the UI's Browse entries)
            cur.execute("SELECT count(*) FROM ab_role r JOIN ab_permission_view_role pvr ON pvr.role_id = r.id "
                        "JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id "
                        "JOIN ab_permission p ON p.id = pv.permission_id JOIN ab_view_menu v ON v.id = pv.view_menu_id "
                        "WHERE r.name = 'Viewer' AND p.name = 'can_read' AND v.name = 'Plugins'")
            viewer_reads_plugins = cur.fetchone()[0]
    finally:
        conn.close()
    assert {"SchedulerJob", "DagProcessorJob", "TriggererJob"} <= set(running)
    assert viewer_reads_plugins == 1
