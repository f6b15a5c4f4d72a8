"""Detect what the cluster can do, so the same code runs on the embedded dev node and a full distribution.

The embedded node runs Elastic's server code without the modules that are not on Maven Central: no
painless, no `_reindex`/`_delete_by_query` (reindex), no ILM and no data streams (x-pack). English
analysis it has, through its own plugin (es-dev-node, `newswatch.esnode.english`: Lucene's English
components under Elastic's names); a node built before that plugin, or a cluster without the
analysis-common module, does not. Every missing feature is logged once with what we do instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from pipeline.index.errors import ClusterUnavailable
from pipeline.index.transport import OVERLOADED, unavailable

log = logging.getLogger(__name__)

_DEGRADATIONS = {
    "english_analyzer": "text fields get the standard analyzer only (no .english stemmed subfield): "
                        "searches match exact word forms (\"elections\" misses \"election\")",
    "painless": "no scripted updates; documents are replaced whole",
    "reindex": "migrations copy with client-side scan + bulk instead of _reindex",
    "ilm": "no index lifecycle policy; events are not rolled over or expired automatically",
    "data_streams": "events use a rollover alias instead of a data stream",
}


@dataclass(frozen=True)
class ClusterFeatures:
    version: str = ""
    distribution: str = ""
    modules: frozenset[str] = frozenset()
    english_analyzer: bool = False
    painless: bool = False
    reindex: bool = False
    ilm: bool = False
    data_streams: bool = False
    reasons: dict[str, str] = field(default_factory=dict)

    def missing(self) -> dict[str, str]:
        """feature -> what happens instead, for every feature this cluster lacks."""
        return {name: _DEGRADATIONS[name] for name in _DEGRADATIONS if not getattr(self, name)}

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "distribution": self.distribution,
                **{name: getattr(self, name) for name in _DEGRADATIONS}, "reasons": dict(self.reasons)}


def _probe(call: Any) -> tuple[bool, str]:
    try:
        call()
        return True, ""
    except ApiError as exc:
        if exc.meta.status in OVERLOADED:
            raise  # the cluster is busy, not lacking the feature
        return False, f"{exc.meta.status} {_reason(exc)}"


def _reason(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error")
    if isinstance(err, dict):
        return str(err.get("reason") or err.get("type") or exc.message)
    return str(err or exc.message)


def _modules(es: Elasticsearch) -> frozenset[str]:
    try:
        info = es.nodes.info(metric="plugins")
    except ApiError:
        return frozenset()
    names: set[str] = set()
    for node in info.get("nodes", {}).values():
        for entry in node.get("modules", []) + node.get("plugins", []):
            names.add(str(entry.get("name", "")))
    return frozenset(names)


# What the index templates use (pipeline.index.mappings: `"analyzer": "english"` on the .english subfields),
# probed the way a mapping uses it, and checked to stem: a stand-in that only lowercases would not do.
_ENGLISH_PROBE = "Elections sanctioned"
_ENGLISH_TOKENS = ["elect", "sanction"]
DEV_NODE_NAME = "newswatch-dev-node"  # es-dev-node's default node name (newswatch.esnode.DevNode)


def _probe_english(es: Elasticsearch) -> tuple[bool, str]:
    try:
        resp = es.indices.analyze(analyzer="english", text=_ENGLISH_PROBE)
    except ApiError as exc:
        if exc.meta.status in OVERLOADED:
            raise  # the cluster is busy, not lacking the feature
        return False, f"{exc.meta.status} {_reason(exc)}"
    tokens = [t.get("token") for t in resp.get("tokens", [])]
    if tokens != _ENGLISH_TOKENS:
        return False, f"analyzer [english] gives {tokens} for {_ENGLISH_PROBE!r}, not {_ENGLISH_TOKENS}"
    return True, ""


_cache: dict[int, ClusterFeatures] = {}


def detect_features(es: Elasticsearch, *, refresh: bool = False) -> ClusterFeatures:
    """Probe the cluster once per client (cached); raises ClusterUnavailable when it does not answer."""
    key = id(es)
    if not refresh and key in _cache:
        return _cache[key]
    try:
        info = es.info()
        modules = _modules(es)
        reasons: dict[str, str] = {}
        english, reasons["english_analyzer"] = _probe_english(es)
        ilm, reasons["ilm"] = _probe(lambda: es.ilm.get_status())
        streams, reasons["data_streams"] = _probe(lambda: es.indices.get_data_stream(name="*"))
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise
    if not english and reasons.get("english_analyzer", "").startswith("403") and "analysis-common" in modules:
        english, reasons["english_analyzer"] = True, ""  # not allowed to probe, but the module is there
    if not english and info.get("name") == DEV_NODE_NAME:
        reasons["english_analyzer"] += ("; this embedded dev node predates its English analysis plugin: rebuild "
                                        "it (es-dev-node/build.sh) and restart it (newswatch es stop, es start)")
    painless = "lang-painless" in modules
    reindex = "reindex" in modules
    if not painless:
        reasons["painless"] = "module lang-painless not installed"
    if not reindex:
        reasons["reindex"] = "module reindex not installed"
    version = info.get("version", {})
    features = ClusterFeatures(
        version=str(version.get("number", "")), distribution=str(version.get("build_flavor", "")),
        modules=modules, english_analyzer=english, painless=painless, reindex=reindex, ilm=ilm,
        data_streams=streams, reasons={k: v for k, v in reasons.items() if v},
    )
    for name, instead in features.missing().items():
        log.info("cluster lacks %s (%s): %s", name, features.reasons.get(name, "not detected"), instead)
    _cache[key] = features
    return features


def require_cluster(es: Elasticsearch) -> None:
    """Raise ClusterUnavailable unless the cluster answers."""
    try:
        es.info()
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise


__all__ = ["ClusterFeatures", "ClusterUnavailable", "detect_features", "require_cluster"]
