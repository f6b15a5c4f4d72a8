"""Airflow for the DAG tests: SQLite in a temporary AIRFLOW_HOME, set before airflow is imported.

The DAG and plugin folders are the repo's own; examples are off. `airflow_db` migrates the database
once per session (about 5 s).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
PLUGINS = REPO / "plugins"

_HOME = Path(tempfile.mkdtemp(prefix="newswatch-airflow-test-"))
os.environ.update({
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    # fast retries, so the fault-injection test does not wait minutes
    "NEWSWATCH_RETRY_DELAY_SECONDS": "1",
})

import airflow  # noqa: E402,F401  (after the environment: puts plugins/ on sys.path)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    from airflow.utils import db

    db.upgradedb()
    return airflow_home / "airflow.db"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))
