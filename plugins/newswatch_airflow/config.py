"""Airflow Connection + Variables -> `Settings`, in one place.

Precedence (later wins): packaged defaults, `NEWSWATCH_*` environment variables, the Elasticsearch
Connection `elasticsearch_default` (when it exists), the JSON Variable `newswatch_settings`
(``{"ingest_chunk_size": 50, ...}``; keys are Settings field names).
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from pipeline.config import Settings, load_settings
from pipeline.spool import Spool

log = logging.getLogger(__name__)

ES_CONN_ID = "elasticsearch_default"
SETTINGS_VARIABLE = "newswatch_settings"
_FIELDS = {f.name for f in fields(Settings)}


def es_overrides_from_connection(conn: Any) -> dict[str, Any]:
    """Map an Airflow Connection (type elasticsearch) onto the Settings' es_* fields.

    host/port/schema (http|https) form the URL; login/password are basic auth; extras may carry
    `api_key`, `ca_certs`, `verify_certs` and `request_timeout`.
    """
    host = conn.host or "127.0.0.1"
    if "://" in host:  # a full URL typed into the host field
        url = host.rstrip("/")
    else:
        scheme = conn.schema or "http"
        url = f"{scheme}://{host}:{conn.port or 9200}"
    extra = conn.extra_dejson or {}
    out: dict[str, Any] = {"es_url": url, "es_username": conn.login or None,
                           "es_password": conn.password or None}
    if extra.get("api_key"):
        out["es_api_key"] = extra["api_key"]
    if extra.get("ca_certs"):
        out["es_ca_certs"] = extra["ca_certs"]
    if "verify_certs" in extra:
        out["es_verify_certs"] = str(extra["verify_certs"]).lower() in {"1", "true", "yes", "on"}
    if extra.get("request_timeout"):
        out["es_request_timeout"] = float(extra["request_timeout"])
    return out


def _connection(conn_id: str) -> Any | None:
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchSQLHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return ElasticsearchSQLHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def _variable_overrides() -> dict[str, Any]:
    from airflow.sdk import Variable

    raw = Variable.get(SETTINGS_VARIABLE, default=None, deserialize_json=True)
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"Variable {SETTINGS_VARIABLE} must be a JSON object of Settings fields")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValueError(f"Variable {SETTINGS_VARIABLE}: unknown settings {unknown}")
    return raw


def settings_from_airflow(conn_id: str = ES_CONN_ID) -> Settings:
    """Settings for a task: env defaults, then the Connection, then the Variable."""
    overrides: dict[str, Any] = {}
    conn = _connection(conn_id)
    if conn is not None:
        overrides.update(es_overrides_from_connection(conn))
    else:
        log.info("no Airflow connection %r; using NEWSWATCH_ES_URL / defaults", conn_id)
    overrides.update(_variable_overrides())
    return load_settings(**overrides)


def spool_from_settings(settings: Settings) -> Spool:
    """The spool on Airflow object storage: `spool_url` (file://, s3://conn@bucket/..., gs://...)
    or `<data_dir>/spool` on the local disk."""
    from airflow.sdk import ObjectStoragePath

    url = settings.spool_url or f"file://{settings.data_dir.rstrip('/')}/spool"
    return Spool(ObjectStoragePath(url))
