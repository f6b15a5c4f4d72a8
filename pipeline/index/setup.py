"""Create component templates, index templates, the ILM policy, the indices and their aliases. Idempotent.

Layout per kind (articles, claims, feeds, events):
    component template  <prefix>-settings            shards, replicas, refresh interval (shared; Settings.index_*)
    component template  <prefix>-<kind>-mappings     derived from the records
    component template  <prefix>-events-lifecycle    ILM policy + rollover alias (events, ILM clusters only)
    index template      <prefix>-<kind>-template     pattern <prefix>-<kind>-v*
    index               <prefix>-<kind>-v1           (events: <prefix>-events-v1-000001)
    alias               <prefix>-<kind>              -> the current version
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from pipeline.config import Settings
from pipeline.index import analysis
from pipeline.index.errors import IndexSetupError
from pipeline.index.features import ClusterFeatures, detect_features
from pipeline.index.mappings import MAPPING_VERSION, mapping_for
from pipeline.index.names import KINDS, ROLLOVER_KINDS, IndexNames
from pipeline.index.transport import unavailable
from pipeline.index.versions import adopt_plain_index, alias_targets, create_version

log = logging.getLogger(__name__)

TEMPLATE_PRIORITY = 500


@dataclass
class SetupReport:
    features: ClusterFeatures
    created: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    mapping_updated: list[str] = field(default_factory=list)
    drift: dict[str, str] = field(default_factory=dict)
    settings_updated: list[str] = field(default_factory=list)
    ilm: str = ""
    without_english: dict[str, int] = field(default_factory=dict)  # index -> documents not English-analysed
    advice: str = ""  # what to run about `without_english`


def names_for(settings: Settings) -> IndexNames:
    return IndexNames(settings.index_prefix)


def ilm_policy_body(settings: Settings) -> dict[str, Any]:
    return {
        "phases": {
            "hot": {"actions": {"rollover": {"max_primary_shard_size": settings.ilm_rollover_max_size,
                                             "max_age": settings.ilm_rollover_max_age}}},
            "delete": {"min_age": f"{settings.events_retention_days}d", "actions": {"delete": {}}},
        },
        "_meta": {"managed_by": "newswatch"},
    }


def index_settings(settings: Settings) -> dict[str, Any]:
    """The settings every newswatch index shares: primary shards, replicas (a count, or an auto-expand
    range such as "0-1"), and the refresh interval while writing (unset: Elasticsearch's default)."""
    body: dict[str, Any] = {"number_of_shards": settings.index_shards, **_replica_settings(settings.index_replicas)}
    if settings.index_refresh_interval:
        body["refresh_interval"] = settings.index_refresh_interval
    return body


def _replica_settings(value: str) -> dict[str, Any]:
    text = value.strip()
    if text.isdigit():
        return {"auto_expand_replicas": "false", "number_of_replicas": int(text)}
    low, _, high = text.partition("-")
    if low.isdigit() and (high.isdigit() or high == "all"):
        return {"auto_expand_replicas": text}
    raise IndexSetupError(f"NEWSWATCH_INDEX_REPLICAS must be a number of replicas (1) or a range (0-1, 0-all), "
                          f"not {value!r}")


def template_bodies(names: IndexNames, features: ClusterFeatures, settings: Settings
                    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(component templates, index templates) by name; pure, so it is unit-testable."""
    english = features.english_analyzer
    shared = names.shared_settings
    components: dict[str, dict[str, Any]] = {
        shared: {"template": {"settings": {"index": index_settings(settings)}}, "_meta": {"managed_by": "newswatch"}},
    }
    templates: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        parts = [shared]
        mappings = names.component(kind, "mappings")
        components[mappings] = {"template": {"mappings": mapping_for(kind, english)},
                                "_meta": {"managed_by": "newswatch", "mapping_version": MAPPING_VERSION}}
        parts.append(mappings)
        if kind in ROLLOVER_KINDS and features.ilm:
            lifecycle = names.component(kind, "lifecycle")
            components[lifecycle] = {"template": {"settings": {"index": {"lifecycle": {
                "name": names.ilm_policy(kind), "rollover_alias": names.alias(kind)}}}},
                "_meta": {"managed_by": "newswatch"}}
            parts.append(lifecycle)
        templates[names.template(kind)] = {
            "index_patterns": [names.pattern(kind)], "composed_of": parts, "priority": TEMPLATE_PRIORITY,
            "_meta": {"managed_by": "newswatch", "kind": kind, "mapping_version": MAPPING_VERSION},
        }
    return components, templates


def _put_templates(es: Elasticsearch, names: IndexNames, features: ClusterFeatures, settings: Settings,
                   report: SetupReport) -> None:
    if features.ilm:
        for kind in ROLLOVER_KINDS:
            es.ilm.put_lifecycle(name=names.ilm_policy(kind), policy=ilm_policy_body(settings))
        report.ilm = (f"policy attached to events: rollover at {settings.ilm_rollover_max_size} or "
                      f"{settings.ilm_rollover_max_age}, delete after {settings.events_retention_days}d")
    else:
        report.ilm = f"skipped: cluster has no ILM ({features.reasons.get('ilm', 'not detected')})"
        log.info("ILM %s", report.ilm)
    components, templates = template_bodies(names, features, settings)
    for name, body in components.items():
        es.cluster.put_component_template(name=name, **body)
    for name, body in templates.items():
        es.indices.put_index_template(name=name, **body)


def _update_live_mapping(es: Elasticsearch, names: IndexNames, kind: str, english: bool,
                         report: SetupReport) -> None:
    """Additive mapping changes go straight onto the live index; conflicting ones need a migration.
    Adding the `.english` subfields to an index that holds documents leaves those unanalysed: the count
    goes into `_meta` (pipeline.index.analysis) for the warning and `newswatch index status`."""
    body = mapping_for(kind, english)
    alias = names.alias(kind)
    try:
        live = es.indices.get_mapping(index=alias).body
    except ApiError:
        return
    stale = {index: m.get("mappings", {}) for index, m in live.items()
             if m.get("mappings", {}).get("_meta", {}).get("mapping_hash") != body["_meta"]["mapping_hash"]}
    if not stale:
        return
    try:
        for index, mapping in stale.items():
            meta = {**body["_meta"], **analysis.carried(mapping.get("_meta", {}))}
            es.indices.put_mapping(index=index, **{**body, "_meta": meta})
            if analysis.adds_english(mapping.get("properties", {}), body["properties"]):
                _mark_unanalysed(es, index, meta, report)
        report.mapping_updated.append(alias)
        log.info("updated the mapping of %s in place (additive change)", alias)
    except ApiError as exc:
        report.drift[alias] = str(exc)
        log.warning("mapping of %s differs from the code and cannot be updated in place (%s); "
                    "run `newswatch index migrate`", alias, exc)


def _mark_unanalysed(es: Elasticsearch, index: str, meta: dict[str, Any], report: SetupReport) -> None:
    """Counted after the subfields are in place, so a document written meanwhile errs on the side of advice."""
    es.indices.refresh(index=index)
    docs = int(es.count(index=index)["count"])
    if docs:
        es.indices.put_mapping(index=index, meta={**meta, **analysis.marker(docs, datetime.now(UTC))})
        report.without_english[index] = docs


def _update_live_settings(es: Elasticsearch, names: IndexNames, kind: str, settings: Settings,
                          report: SetupReport) -> None:
    """Replicas and the refresh interval are dynamic: a changed setting reaches the live indices at
    once (the shard count only reaches the next index version)."""
    want = {k: v for k, v in index_settings(settings).items() if k != "number_of_shards"}
    want.setdefault("refresh_interval", None)  # unset: back to Elasticsearch's default
    alias = names.alias(kind)
    try:
        live = es.indices.get_settings(index=alias, flat_settings=True).body
    except ApiError:
        return
    for index, body in live.items():
        current = body.get("settings", {})
        changed = {k: v for k, v in want.items()
                   if current.get(f"index.{k}") != (None if v is None else str(v).lower())}
        if changed:
            es.indices.put_settings(index=index, settings={"index": changed})
            report.settings_updated.append(index)
            log.info("updated the settings of %s: %s", index, changed)


def setup_indices(es: Elasticsearch, settings: Settings, *, features: ClusterFeatures | None = None,
                  migrating: Collection[str] = ()) -> SetupReport:
    """`features` defaults to what the cluster has; `migrating` names the kinds a migration is about to copy
    (no advice to migrate those)."""
    names = names_for(settings)
    try:
        features = features or detect_features(es)
        report = SetupReport(features=features)
        _put_templates(es, names, features, settings, report)
        unanalysed: dict[str, dict[str, int]] = {}  # kind -> index -> documents
        for kind in KINDS:
            alias = names.alias(kind)
            if alias_targets(es, alias):
                marked = set(report.without_english)
                _update_live_mapping(es, names, kind, features.english_analyzer, report)
                _update_live_settings(es, names, kind, settings, report)
                if new := {i: n for i, n in report.without_english.items() if i not in marked}:
                    unanalysed[kind] = new
                continue
            if es.indices.exists(index=alias):
                report.adopted.append(adopt_plain_index(es, names, kind, features))
                continue
            report.created.append(create_version(es, names, kind, 1, with_alias=True))
            log.info("created %s -> %s", alias, report.created[-1])
        _advise(report, {k: v for k, v in unanalysed.items() if k not in migrating})
    except ApiError as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise IndexSetupError(f"Elasticsearch refused the index setup: {exc}") from exc
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise
    return report


def _advise(report: SetupReport, unanalysed: dict[str, dict[str, int]]) -> None:
    """One warning for every index that just gained the English subfields over documents it already held
    (kind -> index -> documents; the kinds a migration is about to copy are left out)."""
    if unanalysed:
        report.advice = analysis.advice({i: n for v in unanalysed.values() for i, n in v.items()}, unanalysed)
        log.warning("%s", report.advice)
    elif report.without_english:
        log.info("the English subfields were added to %s; the migration re-indexes their documents",
                 ", ".join(report.without_english))


def ensure_indices(es: Elasticsearch, settings: Settings) -> None:
    """The explicit set-up step: templates, ILM policy (when supported), indices and aliases.
    Idempotent; run once per DAG run and by `newswatch index setup`. Writers and stores never
    create indices."""
    setup_indices(es, settings)


def drop_prefix(es: Elasticsearch, prefix: str) -> None:
    """Remove everything `setup_indices` made under `prefix`: indices, index and component templates,
    the events ILM policy. For tests and benchmarks that use a throwaway prefix."""
    indices = list(es.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if indices:
        es.indices.delete(index=",".join(indices))
    quiet = es.options(ignore_status=404)
    for tmpl in quiet.indices.get_index_template(name=f"{prefix}-*").body.get("index_templates", []):
        es.indices.delete_index_template(name=tmpl["name"])
    # ILM policies exist only on clusters with ILM (the embedded node answers 400: no handler)
    es.options(ignore_status=(400, 404)).ilm.delete_lifecycle(name=f"{prefix}-events-policy")
    for comp in quiet.cluster.get_component_template(name=f"{prefix}-*").body.get("component_templates", []):
        es.cluster.delete_component_template(name=comp["name"])
