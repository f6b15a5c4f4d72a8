"""Index settings for a cluster (Settings.index_*): the shared template, the client's node list and
the writer's bulk sizes. The live cluster side is tests/integration/test_index_cluster_settings_es.py."""

from __future__ import annotations

import pytest

from pipeline.config import load_settings
from pipeline.es import client_kwargs, es_hosts
from pipeline.index.errors import IndexSetupError
from pipeline.index.features import ClusterFeatures
from pipeline.index.names import IndexNames
from pipeline.index.setup import index_settings, template_bodies
from pipeline.index.writer import IndexWriter


def test_defaults_keep_the_single_node_template():
    assert index_settings(load_settings(env={})) == {"number_of_shards": 1, "auto_expand_replicas": "0-1"}


@pytest.mark.parametrize(("replicas", "expected"), [
    ("1", {"auto_expand_replicas": "false", "number_of_replicas": 1}),
    ("0", {"auto_expand_replicas": "false", "number_of_replicas": 0}),
    ("0-all", {"auto_expand_replicas": "0-all"}),
    ("1-2", {"auto_expand_replicas": "1-2"}),
])
def test_replicas_are_a_count_or_an_auto_expand_range(replicas, expected):
    env = {"NEWSWATCH_INDEX_REPLICAS": replicas, "NEWSWATCH_INDEX_SHARDS": "3", "NEWSWATCH_INDEX_REFRESH_INTERVAL": "5s"}
    assert index_settings(load_settings(env=env)) == {"number_of_shards": 3, "refresh_interval": "5s", **expected}


@pytest.mark.parametrize("replicas", ["one", "1-", "-1", "0-many", ""])
def test_a_replica_setting_that_means_nothing_is_refused_with_its_name(replicas):
    settings = load_settings(env={}, index_replicas=replicas or " ")
    with pytest.raises(IndexSetupError, match="NEWSWATCH_INDEX_REPLICAS"):
        index_settings(settings)


def test_every_kind_shares_the_settings_component():
    settings = load_settings(env={"NEWSWATCH_INDEX_REPLICAS": "1"})
    names = IndexNames("nw")
    components, templates = template_bodies(names, ClusterFeatures(), settings)
    assert components[names.shared_settings]["template"]["settings"]["index"]["number_of_replicas"] == 1
    assert all(names.shared_settings in t["composed_of"] for t in templates.values())


def test_es_url_may_list_several_nodes():
    settings = load_settings(env={"NEWSWATCH_ES_URL": "http://a:9200, http://b:9200,,http://c:9201"})
    assert es_hosts(settings) == ["http://a:9200", "http://b:9200", "http://c:9201"]
    assert client_kwargs(settings)["hosts"] == es_hosts(settings)
    assert es_hosts(load_settings(env={})) == ["http://127.0.0.1:9200"]


def test_writer_takes_its_bulk_sizes_from_settings():
    settings = load_settings(env={"NEWSWATCH_INDEX_BULK_ACTIONS": "200", "NEWSWATCH_INDEX_BULK_BYTES": "1048576"})
    writer = IndexWriter(object(), settings)  # type: ignore[arg-type]
    assert (writer.chunk_size, writer.max_chunk_bytes) == (200, 1048576)
    assert IndexWriter(object(), settings, chunk_size=7).chunk_size == 7  # type: ignore[arg-type]
    defaults = IndexWriter(object(), load_settings(env={}))  # type: ignore[arg-type]
    assert (defaults.chunk_size, defaults.max_chunk_bytes) == (500, 10 * 1024 * 1024)
