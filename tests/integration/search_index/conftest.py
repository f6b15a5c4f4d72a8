"""Fixtures for the index/search/Kibana integration tests: a unique index prefix per test (or per module),
with its indices and templates removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from pipeline.config import Settings, load_settings
from pipeline.index.setup import drop_prefix


def _prefixed(es_url: str, es_client) -> Iterator[Settings]:
    prefix = f"t4-{uuid.uuid4().hex[:10]}"
    yield load_settings(es_url=es_url, index_prefix=prefix)
    drop_prefix(es_client, prefix)


@pytest.fixture
def settings(es_url: str, es_client) -> Iterator[Settings]:
    yield from _prefixed(es_url, es_client)


@pytest.fixture(scope="module")
def module_settings(es_url: str, es_client) -> Iterator[Settings]:
    """For read-only tests that share one indexed data set."""
    yield from _prefixed(es_url, es_client)


@pytest.fixture
def writer(es_client, settings: Settings):
    from pipeline.index.setup import ensure_indices
    from pipeline.index.writer import IndexWriter

    ensure_indices(es_client, settings)  # the explicit set-up step; the writer never creates indices
    return IndexWriter(es_client, settings, refresh="wait_for")
