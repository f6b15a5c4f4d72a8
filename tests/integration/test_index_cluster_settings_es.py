"""Index settings reach a real cluster: new indices get them from the template, and the dynamic ones
(replicas, refresh interval) reach live indices when `index setup` runs again."""

from __future__ import annotations

import uuid

import pytest

from pipeline.config import load_settings
from pipeline.index.setup import drop_prefix, setup_indices

pytestmark = pytest.mark.integration


def _live(es_client, prefix: str) -> dict[str, dict[str, str]]:
    body = es_client.indices.get_settings(index=f"{prefix}-*", flat_settings=True).body
    return {name: s["settings"] for name, s in body.items()}


def test_settings_reach_new_and_live_indices(es_url, es_client):
    prefix = f"nwsettings-{uuid.uuid4().hex[:8]}"
    try:
        first = setup_indices(es_client, load_settings(env={}, es_url=es_url, index_prefix=prefix, index_shards=2))
        live = _live(es_client, prefix)
        assert first.created and set(live) >= set(first.created)
        for settings in live.values():
            assert (settings["index.number_of_shards"], settings["index.auto_expand_replicas"]) == ("2", "0-1")
            assert "index.refresh_interval" not in settings

        busy = load_settings(env={}, es_url=es_url, index_prefix=prefix, index_replicas="0", index_refresh_interval="5s")
        again = setup_indices(es_client, busy)
        assert sorted(again.settings_updated) == sorted(live)
        for settings in _live(es_client, prefix).values():
            assert (settings["index.number_of_replicas"], settings["index.refresh_interval"]) == ("0", "5s")
            assert settings["index.auto_expand_replicas"] == "false"
            assert settings["index.number_of_shards"] == "2"  # static: only a new index version changes it

        assert setup_indices(es_client, busy).settings_updated == []  # nothing left to change
        back = setup_indices(es_client, load_settings(env={}, es_url=es_url, index_prefix=prefix))
        assert sorted(back.settings_updated) == sorted(live)
        for settings in _live(es_client, prefix).values():
            assert settings["index.auto_expand_replicas"] == "0-1" and "index.refresh_interval" not in settings
    finally:
        drop_prefix(es_client, prefix)
