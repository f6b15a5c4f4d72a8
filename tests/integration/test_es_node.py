"""The Elasticsearch the tests get (embedded dev node, or NEWSWATCH_ES_URL), and managing the dev node itself."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import BadRequestError, NotFoundError, helpers

from pipeline import devnode
from pipeline.devnode import free_port

pytestmark = pytest.mark.integration

SOURCES = ("reuters", "ap", "bbc", "lemonde", "nhk")
SPEAKERS = ("Ada Lovelace", "Alan Turing", "Grace Hopper")
CERTAINTIES = ("asserted", "hedged", "denied")
TOPICS = ("reactor", "election", "harvest", "vaccine", "bridge")


def make_docs(n: int) -> list[dict]:
    rng = random.Random(20261128)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        claims = [
            {
                "speaker": rng.choice(SPEAKERS),
                "certainty": rng.choice(CERTAINTIES),
                "text": f"claim {j} about the {topic}",
            }
            for j in range(rng.randint(1, 3))
        ]
        docs.append(
            {
                "_id": f"doc-{i}",
                "source": SOURCES[i % len(SOURCES)],
                "title": f"Story {i} on the {topic}",
                "body": f"Officials discussed the {topic} on day {i}. Nothing else of note happened.",
                "published": (start + timedelta(hours=i)).isoformat(),
                "claims": claims,
            }
        )
    return docs


MAPPING = {
    "properties": {
        "source": {"type": "keyword"},
        "title": {"type": "text"},
        "body": {"type": "text"},
        "published": {"type": "date"},
        "claims": {
            "type": "nested",
            "properties": {
                "speaker": {"type": "keyword"},
                "certainty": {"type": "keyword"},
                "text": {"type": "text"},
            },
        },
    }
}


@pytest.fixture(scope="module")
def docs_index(es_client):
    name = f"test-es-node-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(index=name, mappings=MAPPING, settings={"number_of_shards": 1, "number_of_replicas": 0})
    docs = make_docs(1000)
    ok, errors = helpers.bulk(es_client, ({"_index": name, **d} for d in docs), chunk_size=250, raise_on_error=False)
    es_client.indices.refresh(index=name)
    yield name, docs, ok, errors
    es_client.indices.delete(index=name, ignore_unavailable=True)


def test_info_and_ping_through_official_client(es_client):
    info = es_client.info()
    assert info["tagline"] == "You Know, for Search"
    assert info["version"]["number"].split(".")[0] in {"8", "9"}
    assert info["cluster_name"]
    assert es_client.ping() is True


def test_every_response_carries_product_header(es_url, es_client):
    for path in ("/", "/_cluster/health"):
        with urllib.request.urlopen(es_url + path, timeout=10) as resp:
            assert resp.headers["X-Elastic-Product"] == "Elasticsearch"
    head = urllib.request.Request(es_url + "/", method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["X-Elastic-Product"] == "Elasticsearch"
        assert resp.read() == b""
    # an error response passes the client's product check too and surfaces as a plain 404
    with pytest.raises(NotFoundError):
        es_client.get(index="test-es-node-does-not-exist", id="1")


def test_bulk_index_thousand_docs(es_client, docs_index):
    name, docs, ok, errors = docs_index
    assert (ok, errors) == (1000, [])
    assert es_client.count(index=name)["count"] == 1000
    mapping = es_client.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert mapping["claims"]["type"] == "nested"
    assert mapping["published"]["type"] == "date"


def test_full_text_query_with_highlighting(es_client, docs_index):
    name, docs, _, _ = docs_index
    expected = {d["_id"] for d in docs if "reactor" in d["body"]}
    resp = es_client.search(
        index=name,
        query={"match": {"body": "Reactor"}},
        highlight={"fields": {"body": {}}},
        size=len(expected) + 10,
        track_total_hits=True,
    )
    assert resp["hits"]["total"]["value"] == len(expected) == 200
    assert {h["_id"] for h in resp["hits"]["hits"]} == expected
    for hit in resp["hits"]["hits"]:
        assert any("<em>reactor</em>" in frag for frag in hit["highlight"]["body"])


def test_nested_query_matches_within_one_claim(es_client, docs_index):
    name, docs, _, _ = docs_index

    def nested(speaker: str, certainty: str) -> set[str]:
        resp = es_client.search(
            index=name,
            query={
                "nested": {
                    "path": "claims",
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"claims.speaker": speaker}},
                                {"term": {"claims.certainty": certainty}},
                            ]
                        }
                    },
                }
            },
            size=1000,
            _source=False,
        )
        return {h["_id"] for h in resp["hits"]["hits"]}

    same_claim = {
        d["_id"]
        for d in docs
        if any(c["speaker"] == "Ada Lovelace" and c["certainty"] == "hedged" for c in d["claims"])
    }
    across_claims = {
        d["_id"]
        for d in docs
        if any(c["speaker"] == "Ada Lovelace" for c in d["claims"])
        and any(c["certainty"] == "hedged" for c in d["claims"])
    }
    assert same_claim and across_claims - same_claim  # the data can tell nested from flattened matching
    assert nested("Ada Lovelace", "hedged") == same_claim


def test_terms_aggregation(es_client, docs_index):
    name, docs, _, _ = docs_index
    resp = es_client.search(
        index=name,
        size=0,
        query={"range": {"published": {"gte": "2026-01-05T00:00:00Z"}}},
        aggs={"by_source": {"terms": {"field": "source", "size": 10}}},
    )
    cutoff = datetime(2026, 1, 5, tzinfo=UTC)
    expected = Counter(d["source"] for d in docs if datetime.fromisoformat(d["published"]) >= cutoff)
    got = {b["key"]: b["doc_count"] for b in resp["aggregations"]["by_source"]["buckets"]}
    assert got == dict(expected)
    assert sum(got.values()) == 1000 - 96


def test_best_compression_codec_survives_a_flush(es_client):
    # zstd-backed; on the embedded node this needs the system libzstd the launcher links in
    name = f"test-es-node-zstd-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(index=name, settings={"index.codec": "best_compression", "number_of_replicas": 0})
    try:
        helpers.bulk(es_client, ({"_index": name, "_id": str(i), "text": f"compressible {i} " * 20} for i in range(50)))
        es_client.indices.flush(index=name)
        es_client.indices.refresh(index=name)
        assert es_client.count(index=name)["count"] == 50
        assert es_client.get(index=name, id="7")["_source"]["text"].startswith("compressible 7 ")
        assert es_client.cluster.health(index=name)["status"] == "green"
    finally:
        es_client.indices.delete(index=name, ignore_unavailable=True)


# --- managing the dev node itself (always the embedded node, whatever NEWSWATCH_ES_URL says) --------------


def _launchers_for(folder: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if devnode.MAIN_CLASS.encode() in args and str(folder).encode() in args:
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def own_node(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own-es-node")
    port = free_port()
    url = devnode.start(folder, port=port, timeout=120)
    yield folder, port, url
    devnode.stop(folder)


def test_second_start_does_not_start_a_second_node(own_node):
    folder, port, url = own_node
    first = devnode.status(folder)
    assert first.running and first.responding and first.url == url
    assert devnode.start(folder, port=port) == url
    assert devnode.start(folder, port=free_port()) == url  # another port asked for: still the one node
    assert devnode.status(folder).pid == first.pid
    assert _launchers_for(folder) == [first.pid]


def test_taken_port_is_refused_with_clear_message(own_node, tmp_path):
    node_folder, node_port, _ = own_node
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        with pytest.raises(devnode.PortTaken, match=rf"port {taken} on 127\.0\.0\.1 is already in use by another process"):
            devnode.start(tmp_path / "other", port=taken)
    with pytest.raises(devnode.PortTaken, match=rf"port {node_port} .* in use by an Elasticsearch") as taken_by_node:
        devnode.start(tmp_path / "other", port=node_port)
    assert f"the dev node of {node_folder}, pid {devnode.status(node_folder).pid}" in str(taken_by_node.value)
    assert not devnode.status(tmp_path / "other").running
    assert not (tmp_path / "other" / "node.pid").exists()


def test_launcher_itself_refuses_taken_port(own_node, tmp_path):
    _, node_port, _ = own_node
    java, classpath = devnode._launcher()
    result = subprocess.run(
        [java, "-cp", classpath, devnode.MAIN_CLASS, "--data-dir", str(tmp_path), "--port", str(node_port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == devnode.EXIT_PORT_TAKEN
    assert f"port {node_port} on 127.0.0.1 is already in use" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching the folder


def test_stop_is_clean_and_data_survives_restart(own_node):
    folder, port, url = own_node
    from elasticsearch import Elasticsearch

    with Elasticsearch(url) as es:
        es.index(index="survivor", id="1", document={"title": "still here"}, refresh=True)
    assert devnode.stop(folder) is True
    assert not devnode.status(folder).running
    assert "es-dev-node: stopped" in (folder / "node.log").read_text()
    with pytest.raises(ConnectionRefusedError):  # nothing listens on the port any more
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert devnode.stop(folder) is False

    assert devnode.start(folder, port=port, timeout=120) == url
    with Elasticsearch(url) as es:
        es.cluster.health(index="survivor", wait_for_status="yellow", timeout="30s")
        assert es.get(index="survivor", id="1")["_source"] == {"title": "still here"}


def test_node_owned_by_a_killed_process_stops_itself(tmp_path):
    folder = tmp_path / "owned"
    script = (
        "import sys, time\n"
        "from pipeline import devnode\n"
        f"print(devnode.start({str(folder)!r}, port=devnode.free_port(), timeout=120, stop_with_caller=True), flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        url = owner.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert devnode.status(folder).responding
    finally:
        owner.kill()  # SIGKILL: no chance to stop the node itself
        owner.wait()
    deadline = time.monotonic() + 60
    while devnode.status(folder).running and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not devnode.status(folder).running
    log = (folder / "node.log").read_text()
    assert f"owner process {owner.pid} is gone" in log and "es-dev-node: stopped" in log


# --- English analysis: Elastic's names and settings, from the embedded node's plugin or the full distribution ---


def _analyze(es_client, text: str, **request) -> list[str]:
    return [t["token"] for t in es_client.indices.analyze(text=text, **request)["tokens"]]


def test_english_stemmers_by_their_elastic_names(es_client):
    text = "The official's elections were running"
    assert _analyze(es_client, text, analyzer="english") == ["offici", "elect", "were", "run"]
    expected = {  # what Lucene's filters make of it
        "english": ["the", "official'", "elect", "were", "run"],
        "porter": ["the", "official'", "elect", "were", "run"],
        "light_english": ["the", "official's", "election", "were", "running"],
        "minimal_english": ["the", "official'", "election", "were", "running"],
        "possessive_english": ["the", "official", "elections", "were", "running"],
    }
    for language, tokens in expected.items():
        assert _analyze(es_client, text, tokenizer="standard",
                        filter=["lowercase", {"type": "stemmer", "language": language}]) == tokens, language
    # filters usable by name without a definition, as on a full distribution
    assert _analyze(es_client, "the running dogs", tokenizer="standard", filter=["stop", "porter_stem"]) == [
        "run", "dog"]
    assert _analyze(es_client, "Élysée", tokenizer="standard", filter=["lowercase", "asciifolding"]) == ["elysee"]


def test_english_analyzer_settings_and_keyword_marker(es_client):
    name = f"test-english-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(index=name, settings={"number_of_replicas": 0, "analysis": {
        "filter": {"keep_news": {"type": "keyword_marker", "keywords": ["news"]},
                   "nk": {"type": "synonym_graph", "synonyms": ["dprk, north korea"]}},
        "analyzer": {
            "english_no_stop": {"type": "english", "stopwords": "_none_"},
            "marked": {"tokenizer": "standard", "filter": ["lowercase", "keep_news", "porter_stem"]},
            "with_synonyms": {"tokenizer": "standard", "filter": ["lowercase", "nk"]}}}})
    try:
        assert _analyze(es_client, "the news", index=name, analyzer="english_no_stop") == ["the", "new"]
        assert _analyze(es_client, "the news items", index=name, analyzer="marked") == ["the", "news", "item"]
        assert _analyze(es_client, "DPRK talks", index=name, analyzer="with_synonyms") == [
            "north", "dprk", "korea", "talks"]
    finally:
        es_client.indices.delete(index=name)


def test_synonym_graph_as_a_search_analyzer(es_client):
    name = f"test-synonyms-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(index=name, settings={"number_of_replicas": 0, "analysis": {
        "filter": {"nk": {"type": "synonym_graph", "synonyms": ["dprk, north korea"], "updateable": True}},
        "analyzer": {"nk_search": {"tokenizer": "standard", "filter": ["lowercase", "nk"]}}}},
        mappings={"properties": {"body": {"type": "text", "analyzer": "english", "search_analyzer": "nk_search"}}})
    try:
        es_client.index(index=name, id="1", document={"body": "North Korea fired missiles"}, refresh=True)
        resp = es_client.search(index=name, query={"match": {"body": {"query": "DPRK", "operator": "and"}}})
        assert resp["hits"]["total"]["value"] == 1
    finally:
        es_client.indices.delete(index=name)


@pytest.mark.skipif(bool(os.environ.get("NEWSWATCH_ES_URL")), reason="the embedded node's own limits")
def test_embedded_node_names_the_english_stemmers_it_has(es_client):
    with pytest.raises(BadRequestError, match="stemmer language \\[french\\] is not available.*English only"):
        es_client.indices.analyze(text="x", tokenizer="standard", filter=[{"type": "stemmer", "language": "french"}])
    with pytest.raises(BadRequestError, match="synonyms_set.*synonyms API"):
        es_client.indices.analyze(text="x", tokenizer="standard",
                                  filter=[{"type": "synonym", "synonyms_set": "news"}])
