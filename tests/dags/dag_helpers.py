"""Shared pieces of the end-to-end DAG tests: environment, running a DAG, and a switchable TCP proxy."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_SITE = REPO / "seeds" / "demo-site"


@contextmanager
def newswatch_env(es_url: str, data_dir: Path, feeds_file: Path, prefix: str) -> Iterator[pytest.MonkeyPatch]:
    """Environment the DAG tasks read: the ES Connection, settings, loopback simulator allowed."""
    parts = urlsplit(es_url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", json.dumps(
            {"conn_type": "elasticsearch", "host": parts.hostname, "port": parts.port, "schema": parts.scheme}))
        mp.setenv("NEWSWATCH_ES_URL", es_url)
        mp.setenv("NEWSWATCH_INDEX_PREFIX", prefix)
        mp.setenv("NEWSWATCH_DATA_DIR", str(data_dir))
        mp.setenv("NEWSWATCH_FEEDS_FILE", str(feeds_file))
        mp.setenv("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
        mp.setenv("NEWSWATCH_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
        mp.setenv("NEWSWATCH_PER_HOST_DELAY", "0.02")
        mp.setenv("NEWSWATCH_PER_HOST_CONCURRENCY", "4")
        yield mp


def drop_indices(es_url: str, prefix: str) -> None:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings

    es = client_from_settings(load_settings(es_url=es_url))
    names = list(es.indices.get(index=f"{prefix}-*", expand_wildcards="all"))
    if names:  # by name: the cluster refuses wildcard deletes
        es.indices.delete(index=",".join(names))


def run_ingest(conf: dict[str, Any] | None = None) -> Any:
    """news_ingest once through real Airflow (dag.test); returns the DagRun."""
    from newswatch_airflow.runner import load_dag

    return load_dag("news_ingest").test(run_conf=conf or {"force": True})


def task_tries(run: Any, task_id: str) -> list[int]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id,
                                                 TaskInstance.task_id == task_id).all()
        return [ti.try_number for ti in tis]


class SwitchableProxy:
    """A TCP relay to a real server that can be switched off: while down it accepts and immediately
    closes connections (the client sees the server vanish), counting them."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.scheme = parts.scheme
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.up = True
        self.refused = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True, name="switchable-proxy").start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.up:
                self.refused += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # RST: connection reset
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self._listener.close()
