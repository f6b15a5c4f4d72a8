"""Feature detection on the real node: what is missing is logged, and setup degrades accordingly
(the same assertions hold on the embedded node and on a full distribution via NEWSWATCH_ES_URL)."""

from __future__ import annotations

import logging

import pytest

from pipeline.index.derive import flatten_properties
from pipeline.index.features import detect_features
from pipeline.index.names import IndexNames
from pipeline.index.setup import setup_indices

pytestmark = pytest.mark.integration


def _works(call) -> bool:
    """Probe the cluster directly (not through the code under test)."""
    try:
        call()
    except Exception:  # noqa: BLE001 - any refusal means the feature is not usable
        return False
    return True


def test_setup_follows_the_detected_features(es_client, settings, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.index")
    english_works = _works(lambda: es_client.indices.analyze(analyzer="english", text="running"))
    ilm_works = _works(lambda: es_client.ilm.get_status())
    features = detect_features(es_client, refresh=True)
    assert features.version == es_client.info()["version"]["number"]
    assert (features.english_analyzer, features.ilm) == (english_works, ilm_works)
    expected_missing = {name for name, works in (("english_analyzer", english_works), ("ilm", ilm_works))
                        if not works}
    assert expected_missing <= set(features.missing())
    for name in expected_missing:
        assert any(f"cluster lacks {name}" in r.getMessage() for r in caplog.records)
        assert features.reasons[name]

    report = setup_indices(es_client, settings)
    names = IndexNames(settings.index_prefix)
    live = es_client.indices.get_mapping(index=names.articles).body[names.concrete("articles", 1)]["mappings"]
    assert ("text.english" in flatten_properties(live["properties"])) == english_works
    template = es_client.indices.get_index_template(name=names.template("events")).body["index_templates"][0]
    composed = template["index_template"]["composed_of"]
    if ilm_works:
        assert names.component("events", "lifecycle") in composed
        assert es_client.ilm.get_lifecycle(name=names.ilm_policy("events"))
        assert report.ilm.startswith("policy attached")
    else:
        assert names.component("events", "lifecycle") not in composed
        assert report.ilm.startswith("skipped: cluster has no ILM")
