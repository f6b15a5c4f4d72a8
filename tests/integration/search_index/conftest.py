"""Fixtures for the index/search/Kibana integration tests: a unique index prefix per test (or per module),
with its indices and templates removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from pipeline.config import Settings, load_settings


def _prefixed(es_url: str, es_client) -> Iterator[Settings]:
    prefix = f"t4-{uuid.uuid4().hex[:10]}"
    yield load_settings(es_url=es_url, index_prefix=prefix)
    indices = list(es_client.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if indices:
        es_client.indices.delete(index=",".join(indices))
    quiet = es_client.options(ignore_status=404)
    for tmpl in quiet.indices.get_index_template(name=f"{prefix}-*").body.get("index_templates", []):
        es_client.indices.delete_index_template(name=tmpl["name"])
    # ILM policies exist only on clusters with ILM (the embedded node answers 400: no handler)
    es_client.options(ignore_status=(400, 404)).ilm.delete_lifecycle(name=f"{prefix}-events-policy")
    for comp in quiet.cluster.get_component_template(name=f"{prefix}-*").body.get("component_templates", []):
        es_client.cluster.delete_component_template(name=comp["name"])


@pytest.fixture
def settings(es_url: str, es_client) -> Iterator[Settings]:
    yield from _prefixed(es_url, es_client)


@pytest.fixture(scope="module")
def module_settings(es_url: str, es_client) -> Iterator[Settings]:
    """For read-only tests that share one indexed data set."""
    yield from _prefixed(es_url, es_client)


@pytest.fixture
def writer(es_client, settings: Settings):
    from pipeline.index.writer import IndexWriter

    return IndexWriter(es_client, settings, refresh="wait_for")
