"""Every DAG file imports cleanly, fast, and without touching the network or Elasticsearch."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
EXPECTED = {"news_ingest", "news_reprocess", "feeds_sync"}


def _no_network(*args, **kwargs):
    raise AssertionError(f"network access at DAG import time: {args!r}")


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_fast_without_network(path: Path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://192.0.2.1:9")  # unroutable, in case anything tries
    bag = DagBag(dag_folder=str(path))
    assert bag.import_errors == {}
    assert bag.dags, f"{path.name} defines no DAG"
    (stat,) = bag.dagbag_stats
    assert stat.duration.total_seconds() < 1.0, f"{path.name} took {stat.duration}"


def test_expected_dags_and_their_contracts(dagbag):
    assert dagbag.import_errors == {}
    assert EXPECTED <= set(dagbag.dags)
    ingest = dagbag.dags["news_ingest"]
    assert ingest.catchup is False
    assert ingest.max_active_runs == 1
    assert {"select_due", "poll", "plan", "process", "index", "summarize"} <= set(ingest.task_dict)
    for task in ingest.tasks:
        assert task.retries >= 1, task.task_id
        assert task.execution_timeout is not None, task.task_id
    assert ingest.task_dict["poll"].pool == "newswatch_fetch"
    assert ingest.task_dict["process"].pool == "newswatch_fetch"
    assert [o.name for o in ingest.task_dict["summarize"].outlets] == ["newswatch_articles"]
    for manual in ("news_reprocess", "feeds_sync"):
        assert type(dagbag.dags[manual].timetable).__name__ == "NullTimetable", manual
    assert set(dagbag.dags["news_reprocess"].params) >= {"query", "since", "until", "target_tagger_version"}
    assert set(dagbag.dags["feeds_sync"].params) >= {"action", "source", "feed_id"}
