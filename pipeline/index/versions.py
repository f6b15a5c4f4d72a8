"""Versioned indices behind aliases: which indices an alias points at, creating a version, copying
one index into another, and adopting a plain index that sits where an alias belongs. Used by the
set-up step (`setup`) and by migrations (`migrate`)."""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import ApiError, Elasticsearch, helpers

from pipeline.index.errors import MigrationError
from pipeline.index.features import ClusterFeatures
from pipeline.index.names import ROLLOVER_KINDS, IndexNames

log = logging.getLogger(__name__)


def alias_targets(es: Elasticsearch, alias: str) -> list[str]:
    """Concrete indices behind `alias` (empty when the alias does not exist)."""
    try:
        return sorted(es.indices.get_alias(name=alias).body)
    except ApiError as exc:
        if exc.meta.status == 404:
            return []
        raise


def create_version(es: Elasticsearch, names: IndexNames, kind: str, version: int, *, with_alias: bool) -> str:
    index = names.concrete(kind, version)
    aliases: dict[str, Any] = {}
    if with_alias:
        aliases[names.alias(kind)] = {"is_write_index": True} if kind in ROLLOVER_KINDS else {}
    try:
        es.indices.create(index=index, aliases=aliases or None)
    except ApiError as exc:
        if exc.meta.status == 400 and "resource_already_exists" in str(exc):
            return index
        raise
    return index


def set_write_block(es: Elasticsearch, indices: list[str], blocked: bool) -> None:
    es.indices.put_settings(index=",".join(indices), settings={"index": {"blocks": {"write": blocked}}})


def copy_index(es: Elasticsearch, source: str, dest: str, features: ClusterFeatures) -> tuple[int, str]:
    if features.reindex:
        resp = es.reindex(source={"index": source}, dest={"index": dest}, wait_for_completion=True,
                          refresh=True)
        if resp.get("failures"):
            raise MigrationError(f"_reindex {source} -> {dest} reported failures: {resp['failures'][:3]}")
        return int(resp.get("total", 0)), "_reindex"
    copied = 0
    failures: list[str] = []
    docs = helpers.scan(es, index=source, query={"query": {"match_all": {}}}, size=1000)
    actions = ({"_op_type": "index", "_index": dest, "_id": d["_id"], "_source": d["_source"]} for d in docs)
    for ok, info in helpers.streaming_bulk(es, actions, chunk_size=500, raise_on_error=False,
                                           raise_on_exception=False, max_retries=3, initial_backoff=0.5,
                                           retry_on_status=(429, 502, 503, 504)):
        if ok:
            copied += 1
        else:
            (_, item), = info.items()
            failures.append(f"{item.get('_id')}: {item.get('error')}")
    if failures:
        raise MigrationError(f"{len(failures)} document(s) could not be copied into {dest}: {failures[:3]}")
    es.indices.refresh(index=dest)
    return copied, "scan+bulk (no _reindex on this cluster)"


def adopt_plain_index(es: Elasticsearch, names: IndexNames, kind: str, features: ClusterFeatures) -> str:
    """A plain index sits where the alias belongs (written before setup ran): copy it into v1, swap it for
    the alias atomically, and return the new index name."""
    alias = names.alias(kind)
    target = create_version(es, names, kind, 1, with_alias=False)
    log.warning("%s is a plain index, not an alias; moving its documents into %s", alias, target)
    set_write_block(es, [alias], True)
    try:
        es.indices.refresh(index=alias)
        copied, method = copy_index(es, alias, target, features)
    except Exception:
        set_write_block(es, [alias], False)
        raise
    add: dict[str, Any] = {"index": target, "alias": alias}
    if kind in ROLLOVER_KINDS:
        add["is_write_index"] = True
    es.indices.update_aliases(actions=[{"remove_index": {"index": alias}}, {"add": add}])
    log.warning("adopted %s: %d document(s) copied with %s", alias, copied, method)
    return target
