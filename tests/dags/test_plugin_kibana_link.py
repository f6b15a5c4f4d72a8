"""The Kibana nav link appears only when NEWSWATCH_KIBANA_URL says where Kibana is: a default
address that may serve nothing would be a dead link in the Airflow UI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _plugin_views(monkeypatch, url: str | None, public: str | None = None) -> list[dict]:
    if public is None:
        monkeypatch.delenv("NEWSWATCH_KIBANA_PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("NEWSWATCH_KIBANA_PUBLIC_URL", public)
    if url is None:
        monkeypatch.delenv("NEWSWATCH_KIBANA_URL", raising=False)
    else:
        monkeypatch.setenv("NEWSWATCH_KIBANA_URL", url)
    spec = importlib.util.spec_from_file_location("newswatch_plugin_under_test", PLUGINS / "newswatch_plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # as the plugin manager does when the API server starts
    return module.NewswatchPlugin.external_views


def test_no_kibana_link_unless_configured(monkeypatch):
    names = [v["name"] for v in _plugin_views(monkeypatch, None)]
    assert "Kibana" not in names and {"Feed health", "Claim search"} <= set(names)
    assert "Kibana" not in [v["name"] for v in _plugin_views(monkeypatch, "  ")]


def test_kibana_link_when_configured(monkeypatch):
    views = _plugin_views(monkeypatch, "https://kibana.example.org")
    (kibana,) = [v for v in views if v["name"] == "Kibana"]
    assert kibana["href"] == "https://kibana.example.org" and kibana["category"] == "browse"


def test_the_public_address_wins_over_the_containers_own(monkeypatch):
    views = _plugin_views(monkeypatch, "http://kibana:5601", public="https://kibana.example.org")
    (kibana,) = [v for v in views if v["name"] == "Kibana"]
    assert kibana["href"] == "https://kibana.example.org"
