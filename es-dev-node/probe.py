"""Ask a running Elasticsearch which features it has; prints one line per feature (the table in docs/es-dev-node.md).

    .venv/bin/python es-dev-node/probe.py http://127.0.0.1:9200

Creates indices, templates and a repository named `nw-probe-*` and removes them afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from elasticsearch import ApiError, Elasticsearch


def probe(name: str, call: Callable[[], Any]) -> bool:
    try:
        call()
    except ApiError as exc:
        err = exc.body.get("error") if isinstance(exc.body, dict) else None
        reason = (err.get("reason") if isinstance(err, dict) else err) or exc.message
        print(f"  no   {name:40s} {exc.meta.status}: {str(reason)[:100]}")
        return False
    except AssertionError as exc:  # answered, but not as a full distribution does
        print(f"  no   {name:40s} {str(exc)[:100]}")
        return False
    print(f"  yes  {name}")
    return True


def main(url: str) -> int:
    es = Elasticsearch(url, request_timeout=30)
    print(f"{url}: Elasticsearch {es.info()['version']['number']}")
    idx = "nw-probe-a"
    cleanup(es)
    es.indices.create(index=idx, settings={"number_of_replicas": 0})
    es.index(index=idx, id="1", document={"n": 1, "t": "Running dogs"}, refresh=True)
    try:
        print("analysis")
        for analyzer in ("standard", "simple", "whitespace", "stop", "keyword", "english", "french", "snowball",
                         "pattern", "fingerprint"):
            probe(f"analyzer {analyzer}", lambda a=analyzer: es.indices.analyze(analyzer=a, text="Running dogs"))
        for filt in ("lowercase", "stop", "asciifolding", "stemmer", "porter_stem", "kstem"):
            probe(f"token filter {filt}",
                  lambda f=filt: es.indices.analyze(tokenizer="standard", filter=[f], text="Running dogs"))
        for language in ("english", "light_english", "minimal_english", "possessive_english", "porter", "french"):
            probe(f"stemmer language {language}", lambda lang=language: es.indices.analyze(
                tokenizer="standard", filter=[{"type": "stemmer", "language": lang}], text="Running dogs"))
        for name, definition in (
                ("stop _english_", {"type": "stop", "stopwords": "_english_"}),
                ("keyword_marker", {"type": "keyword_marker", "keywords": ["dogs"]}),
                ("synonym", {"type": "synonym", "synonyms": ["dogs, hounds"]}),
                ("synonym_graph", {"type": "synonym_graph", "synonyms": ["dprk, north korea"]}),
                ("synonym_graph from a synonyms set", {"type": "synonym_graph", "synonyms_set": "nw-probe"})):
            probe(f"token filter {name}", lambda d=definition: es.indices.analyze(
                tokenizer="standard", filter=["lowercase", d], text="Running dogs"))
        probe("english analyzer = its documented rebuild", lambda: english_equals_rebuild(es, "nw-probe-e"))
        print("scripting and document APIs")
        probe("painless script_fields", lambda: es.search(index=idx, script_fields={"x": {"script": "doc['n'].value"}}))
        probe("painless scripted update", lambda: es.update(index=idx, id="1", script={"source": "ctx._source.n += 1"}))
        probe("runtime field (painless)", lambda: es.search(
            index=idx, runtime_mappings={"r": {"type": "long", "script": "emit(1)"}}, fields=["r"]))
        probe("partial update (doc)", lambda: es.update(index=idx, id="1", doc={"m": 2}))
        probe("_reindex", lambda: es.reindex(source={"index": idx}, dest={"index": "nw-probe-b"}, refresh=True))
        probe("_update_by_query", lambda: es.update_by_query(index=idx))
        probe("_delete_by_query", lambda: es.delete_by_query(index=idx, query={"term": {"n": 99}}))
        probe("ingest pipeline (set processor)", lambda: es.ingest.put_pipeline(
            id="nw-probe-p", processors=[{"set": {"field": "x", "value": 1}}]))
        print("index management")
        probe("composable index template", lambda: es.indices.put_index_template(
            name="nw-probe-t", index_patterns=["nw-probe-t*"], template={"settings": {"number_of_replicas": 0}}))
        probe("alias + rollover", lambda: (
            es.indices.create(index="nw-probe-c-000001", aliases={"nw-probe-c": {"is_write_index": True}}),
            es.indices.rollover(alias="nw-probe-c")))
        probe("ILM", lambda: es.ilm.get_status())
        probe("data streams", lambda: es.indices.get_data_stream(name="*"))
        probe("index.codec best_compression (zstd)", lambda: (
            es.indices.create(index="nw-probe-z", settings={"index.codec": "best_compression", "number_of_replicas": 0}),
            es.index(index="nw-probe-z", id="1", document={"a": "b"}, refresh=True),
            es.indices.flush(index="nw-probe-z")))
        probe("fs snapshot repository (under path.repo)", lambda: es.snapshot.create_repository(
            name="nw-probe-r", repository={"type": "fs", "settings": {"location": "nw-probe-r"}}))
        print("field types")
        for ftype, extra in (("flattened", {}), ("dense_vector", {"dims": 3}), ("scaled_float", {"scaling_factor": 10}),
                             ("search_as_you_type", {}), ("match_only_text", {}), ("join", {"relations": {"q": "a"}}),
                             ("percolator", {}), ("wildcard", {}), ("semantic_text", {})):
            probe(f"{ftype} field", lambda t=ftype, x=extra: es.indices.put_mapping(
                index=idx, properties={f"f_{t}": {"type": t, **x}}))
        print("search")
        probe("composite aggregation", lambda: es.search(
            index=idx, size=0, aggs={"c": {"composite": {"sources": [{"n": {"terms": {"field": "n"}}}]}}}))
        probe("significant_text aggregation", lambda: es.search(
            index=idx, size=0, aggs={"s": {"significant_text": {"field": "t"}}}))
        probe("point in time", lambda: es.open_point_in_time(index=idx, keep_alive="1m"))
        probe("search template (mustache)", lambda: es.search_template(
            index=idx, source='{"query": {"match": {"t": "{{q}}"}}}', params={"q": "dogs"}))
        probe("SQL", lambda: es.sql.query(query="SELECT 1"))
        probe("ES|QL", lambda: es.esql.query(query="ROW a = 1"))
        print("x-pack")
        probe("security", lambda: es.security.authenticate())
        probe("license", lambda: es.license.get())
        probe("_xpack info", lambda: es.xpack.info())
    finally:
        cleanup(es)
    return 0


def english_equals_rebuild(es: Elasticsearch, index: str) -> None:
    """Elastic's documented rebuild of the `english` analyzer from its filters gives the same tokens."""
    es.indices.create(index=index, settings={"number_of_replicas": 0, "analysis": {
        "filter": {"english_stop": {"type": "stop", "stopwords": "_english_"},
                   "english_stemmer": {"type": "stemmer", "language": "english"},
                   "english_possessive_stemmer": {"type": "stemmer", "language": "possessive_english"}},
        "analyzer": {"rebuilt_english": {"tokenizer": "standard", "filter": [
            "english_possessive_stemmer", "lowercase", "english_stop", "english_stemmer"]}}}})
    text = "North Korea's officials held elections; the sanctioned regime's leaders were running late."
    built_in = [t["token"] for t in es.indices.analyze(analyzer="english", text=text)["tokens"]]
    rebuilt = [t["token"] for t in es.indices.analyze(index=index, analyzer="rebuilt_english", text=text)["tokens"]]
    if built_in != rebuilt:
        raise AssertionError(f"english {built_in} != rebuilt {rebuilt}")


def cleanup(es: Elasticsearch) -> None:
    # by name: deleting by wildcard is refused by default (action.destructive_requires_name)
    for index in ("nw-probe-a", "nw-probe-b", "nw-probe-c-000001", "nw-probe-c-000002", "nw-probe-z", "nw-probe-e"):
        es.options(ignore_status=404).indices.delete(index=index)
    es.options(ignore_status=404).indices.delete_index_template(name="nw-probe-t")
    es.options(ignore_status=404).snapshot.delete_repository(name="nw-probe-r")
    es.options(ignore_status=[400, 404]).ingest.delete_pipeline(id="nw-probe-p")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9200"))
