"""Run a newswatch DAG once through real Airflow (`dag.test()`), for the demo, the tests and the benchmark.

    python -m newswatch_airflow.runner news_ingest --conf '{"force": true}'

The environment (AIRFLOW_HOME, DAGS/PLUGINS folders, the Connection) must be set before this module
is imported. Migrates the metadata database when needed, creates the fetch pool, runs the DAG and
prints one JSON line: {"dag_id", "run_id", "run_key", "state"}. Exit code 0 only when the run succeeded.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

FETCH_POOL = "newswatch_fetch"


def prepare_airflow() -> None:
    """Migrate the metadata DB (once per Airflow version and database) and create the fetch pool."""
    from pathlib import Path

    import airflow
    from airflow.configuration import conf
    from airflow.models.pool import Pool
    from airflow.settings import AIRFLOW_HOME
    from airflow.utils import db

    # upgradedb costs seconds even when there is nothing to do; remember what was migrated
    stamp = Path(AIRFLOW_HOME) / ".newswatch-migrated"
    want = f"{airflow.__version__} {conf.get('database', 'sql_alchemy_conn')}"
    if not stamp.exists() or stamp.read_text() != want:
        db.upgradedb()
        stamp.write_text(want)
    from pipeline.config import load_settings

    Pool.create_or_update_pool(FETCH_POOL, load_settings().fetch_pool_slots, "newswatch: global fetch concurrency",
                               include_deferred=False)


def load_dag(dag_id: str) -> Any:
    from airflow.configuration import conf
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=conf.get("core", "dags_folder"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise KeyError(f"no DAG {dag_id!r} in {conf.get('core', 'dags_folder')}")
    return bag.dags[dag_id]


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    from pipeline.jobs.ingest import run_key_for

    dag = load_dag(dag_id)
    run = dag.test(run_conf=conf or {})
    state = str(getattr(run.state, "value", run.state))
    return {"dag_id": dag_id, "run_id": run.run_id, "run_key": run_key_for(run.run_id), "state": state}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newswatch_airflow.runner", description=__doc__.splitlines()[0])
    parser.add_argument("dag_id")
    parser.add_argument("--conf", default="{}", help="run conf (JSON object)")
    parser.add_argument("--skip-prepare", action="store_true", help="the DB and pool are already set up")
    args = parser.parse_args(argv)
    if not args.skip_prepare:
        prepare_airflow()
    result = run_dag(args.dag_id, json.loads(args.conf))
    print(json.dumps(result), flush=True)
    return 0 if result["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
