"""The one adapter from Airflow's Connection and Variable to pipeline Settings."""

from __future__ import annotations

import json

import pytest


def _conn(**kw):
    from airflow.models.connection import Connection

    return Connection(conn_id="elasticsearch_default", conn_type="elasticsearch", **kw)


def test_connection_fields_map_onto_settings():
    from newswatch_airflow import es_overrides_from_connection

    conn = _conn(host="es.internal", port=9243, schema="https", login="elastic", password="s3cret",
                 extra=json.dumps({"ca_certs": "/etc/ca.pem", "verify_certs": "false", "request_timeout": 7}))
    out = es_overrides_from_connection(conn)
    assert out["es_url"] == "https://es.internal:9243"
    assert (out["es_username"], out["es_password"]) == ("elastic", "s3cret")
    assert out["es_ca_certs"] == "/etc/ca.pem" and out["es_verify_certs"] is False
    assert out["es_request_timeout"] == 7.0


def test_connection_defaults_and_api_key():
    from newswatch_airflow import es_overrides_from_connection

    out = es_overrides_from_connection(_conn(host="127.0.0.1", extra=json.dumps({"api_key": "k"})))
    assert out["es_url"] == "http://127.0.0.1:9200" and out["es_api_key"] == "k"
    assert out["es_username"] is None


def test_connection_from_env_wins_over_newswatch_es_url(monkeypatch):
    from newswatch_airflow import settings_from_airflow

    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://fallback:9200")
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT",
                       json.dumps({"conn_type": "elasticsearch", "host": "10.1.2.3", "port": 9201}))
    monkeypatch.setenv("AIRFLOW_VAR_NEWSWATCH_SETTINGS", json.dumps({"ingest_chunk_size": 7}))
    settings = settings_from_airflow()
    assert settings.es_url == "http://10.1.2.3:9201"
    assert settings.ingest_chunk_size == 7


def test_without_connection_falls_back_to_env(monkeypatch):
    from newswatch_airflow import settings_from_airflow

    monkeypatch.delenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", raising=False)
    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://fallback:9200")
    assert settings_from_airflow(conn_id="newswatch_no_such_conn").es_url == "http://fallback:9200"


def test_unknown_variable_keys_are_rejected(monkeypatch):
    from newswatch_airflow import settings_from_airflow

    monkeypatch.setenv("AIRFLOW_VAR_NEWSWATCH_SETTINGS", json.dumps({"chunk_sise": 7}))
    with pytest.raises(ValueError, match="chunk_sise"):
        settings_from_airflow(conn_id="newswatch_no_such_conn")


def test_spool_on_airflow_object_storage(tmp_path):
    from newswatch_airflow import spool_from_settings

    from pipeline.config import load_settings
    from pipeline.spool import TAGGED

    spool = spool_from_settings(load_settings({}, spool_url=f"file://{tmp_path}/spool"))
    assert type(spool.root).__name__ == "ObjectStoragePath"
    spool.write(TAGGED, "run:1.s0-c0", [{"kind": "event", "data": {"n": 1}}])
    assert spool.read(TAGGED, "run:1.s0-c0") == [{"kind": "event", "data": {"n": 1}}]
    assert [p.name for p in (tmp_path / "spool" / TAGGED).iterdir()] == ["run_1.s0-c0.jsonl"]  # no temp files
    spool.delete(TAGGED, "run:1.s0-c0")
    assert spool.keys(TAGGED) == []
    default = spool_from_settings(load_settings({}, data_dir=str(tmp_path)))
    assert str(default.root).endswith(f"{tmp_path}/spool")
