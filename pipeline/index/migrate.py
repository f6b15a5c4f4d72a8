"""Migrations: copy an index into the next version (built from the current templates) and flip the alias.

The copy uses `_reindex` when the cluster has it, else a client-side scan + bulk. The old index is made
read-only during the copy (writers get a retryable error instead of writing where the copy cannot see
it); counts are compared before the alias moves, in one atomic `_aliases` call.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from pipeline.config import Settings
from pipeline.index import analysis
from pipeline.index.derive import flatten_properties
from pipeline.index.errors import MigrationError
from pipeline.index.features import ClusterFeatures, detect_features
from pipeline.index.mappings import mapping_for
from pipeline.index.names import KINDS, ROLLOVER_KINDS, IndexNames
from pipeline.index.setup import setup_indices
from pipeline.index.transport import unavailable
from pipeline.index.versions import alias_targets, copy_index, create_version, set_write_block

log = logging.getLogger(__name__)


@dataclass
class MigrationResult:
    kind: str
    alias: str
    source: list[str]
    target: str
    copied: int
    method: str
    seconds: float
    deleted_old: bool = False


def _all_versions(es: Elasticsearch, names: IndexNames, kind: str) -> list[tuple[int, str]]:
    try:
        indices = es.indices.get(index=names.pattern(kind), expand_wildcards="all").body
    except ApiError as exc:
        if exc.meta.status == 404:
            return []
        raise
    found = [(names.version_of(kind, i), i) for i in indices]
    return sorted((v, i) for v, i in found if v is not None)


def migrate(es: Elasticsearch, settings: Settings, kinds: list[str] | None = None, *,
            delete_old: bool = False) -> list[MigrationResult]:
    names = IndexNames(settings.index_prefix)
    kinds = kinds or list(KINDS)
    try:
        setup_indices(es, settings, migrating=kinds)
        features = detect_features(es)
        return [_migrate_one(es, names, kind, features, delete_old) for kind in kinds]
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise


def _migrate_one(es: Elasticsearch, names: IndexNames, kind: str, features: ClusterFeatures,
                 delete_old: bool) -> MigrationResult:
    started = time.monotonic()
    alias = names.alias(kind)
    sources = alias_targets(es, alias)
    versions = _all_versions(es, names, kind)
    next_version = (max(v for v, _ in versions) if versions else 0) + 1
    target = create_version(es, names, kind, next_version, with_alias=False)
    set_write_block(es, sources, True)
    try:
        es.indices.refresh(index=alias)
        expected = int(es.count(index=alias)["count"])
        copied, method = copy_index(es, alias, target, features)
        actual = int(es.count(index=target)["count"])
        if actual != expected:
            raise MigrationError(f"{target} has {actual} document(s), {alias} had {expected}; alias not moved")
    except Exception:
        set_write_block(es, sources, False)
        raise
    add: dict[str, Any] = {"index": target, "alias": alias}
    if kind in ROLLOVER_KINDS:
        add["is_write_index"] = True
    actions: list[dict[str, Any]] = [{"remove": {"index": s, "alias": alias}} for s in sources]
    actions.append({"add": add})
    es.indices.update_aliases(actions=actions)
    log.info("%s now points at %s (%d document(s), %s)", alias, target, copied, method)
    if delete_old and sources:
        es.indices.delete(index=",".join(sources))
    return MigrationResult(kind, alias, sources, target, copied, method, time.monotonic() - started,
                           deleted_old=delete_old and bool(sources))


@dataclass
class IndexStatus:
    kind: str
    alias: str
    current: list[str]
    versions: dict[str, int] = field(default_factory=dict)  # index -> doc count
    docs: int = 0
    template: bool = False
    missing_fields: dict[str, str] = field(default_factory=dict)
    wrong_type: dict[str, str] = field(default_factory=dict)  # field -> "live (expected)"
    extra_fields: list[str] = field(default_factory=list)
    without_english: int = 0  # documents of the current version written before its English subfields

    @property
    def drift(self) -> bool:
        return bool(self.missing_fields or self.wrong_type)

    @property
    def advice(self) -> str:
        """What to run so that searches through the English stems see every document ("" when nothing)."""
        return analysis.advice({self.alias: self.without_english}, [self.kind]) if self.without_english else ""


def mapping_drift(expected: dict[str, Any], live: dict[str, Any]
                  ) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(missing, wrong type, extra) between an expected and a live `properties` tree."""
    want, have = flatten_properties(expected), flatten_properties(live)
    missing = {f: t for f, t in want.items() if f not in have}
    wrong = {f: f"{have[f]} (expected {t})" for f, t in want.items() if f in have and have[f] != t}
    extra = sorted(f for f in have if f not in want)
    return missing, wrong, extra


def index_status(es: Elasticsearch, settings: Settings) -> list[IndexStatus]:
    names = IndexNames(settings.index_prefix)
    try:
        features = detect_features(es)
        out: list[IndexStatus] = []
        for kind in KINDS:
            alias = names.alias(kind)
            status = IndexStatus(kind, alias, alias_targets(es, alias))
            status.template = bool(es.indices.exists_index_template(name=names.template(kind)))
            for _, index in _all_versions(es, names, kind):
                status.versions[index] = int(es.count(index=index)["count"])
            status.docs = sum(status.versions.get(i, 0) for i in status.current)
            if status.current:
                live = es.indices.get_mapping(index=",".join(status.current)).body
                status.without_english = sum(analysis.docs_without_english(m.get("mappings", {}).get("_meta", {}))
                                             for m in live.values())
                props = live[status.current[-1]]["mappings"].get("properties", {})
                expected = mapping_for(kind, features.english_analyzer)["properties"]
                status.missing_fields, status.wrong_type, status.extra_fields = mapping_drift(expected, props)
            out.append(status)
        return out
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise
