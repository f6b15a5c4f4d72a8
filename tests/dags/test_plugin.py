"""The newswatch Airflow plugin loads through Airflow's plugin manager and its pages answer."""

from __future__ import annotations

import pytest


def test_plugin_loads_with_app_and_nav_entries():
    from airflow import plugins_manager

    plugins, errors = plugins_manager._get_plugins()
    assert not {k: v for k, v in errors.items() if "newswatch" in k}
    (plugin,) = [p for p in plugins if p.name == "newswatch"]
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(a["url_prefix"] == "/newswatch" for a in apps)
    routes = {v.get("url_route") for v in plugin.external_views}
    assert {"newswatch-feeds", "newswatch-search"} <= routes
    assert all(not v["href"].startswith("/") for v in plugin.external_views)  # relative, proxy-safe


def _client():
    from fastapi.testclient import TestClient
    from newswatch_airflow.web import app

    return TestClient(app)


def test_pages_say_clearly_when_elasticsearch_is_down(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    client = _client()
    r = client.get("/feeds")
    assert r.status_code == 503 and "unreachable" in r.text
    assert client.get("/health").json()["elasticsearch"] == "unreachable"
    assert client.get("/search").status_code == 200  # the empty form needs no cluster


@pytest.mark.integration
def test_feed_health_page_with_real_elasticsearch(es_url, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ES_URL", es_url)
    client = _client()
    assert client.get("/health").json()["elasticsearch"] == "ok"
    r = client.get("/feeds")
    assert r.status_code == 200 and "Feeds (" in r.text and "Failures in the last 24 hours" in r.text
