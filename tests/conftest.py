"""Shared fixtures. Elasticsearch comes from NEWSWATCH_ES_URL when set, else the embedded dev node.

`es_url` and `es_client` are session-scoped and lazy: the dev node starts (on a free port, in a temporary
folder) only when a test asks for one of them, and stops when the session ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Call it for a TCP port on 127.0.0.1 that was free a moment ago."""
    from pipeline.devnode import free_port

    return free_port


@pytest.fixture(scope="session")
def es_url(tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]) -> Iterator[str]:
    external = os.environ.get("NEWSWATCH_ES_URL")
    if external:
        yield external.rstrip("/")
        return
    from pipeline import devnode

    data_dir = tmp_path_factory.mktemp("es-node")
    url = devnode.start(data_dir, port=free_port(), timeout=120, stop_with_caller=True)
    try:
        yield url
    finally:
        devnode.stop(data_dir)


@pytest.fixture(scope="session")
def es_client(es_url: str) -> Iterator[object]:
    """The official client (8.x), with credentials from NEWSWATCH_ES_* when set."""
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings

    client = client_from_settings(load_settings(es_url=es_url))
    try:
        yield client
    finally:
        client.close()
