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


def test_setup_follows_the_detected_features(es_client, settings, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.index")
    features = detect_features(es_client, refresh=True)
    assert features.version
    for name in features.missing():
        assert any(f"cluster lacks {name}" in r.getMessage() for r in caplog.records)
        assert features.reasons[name]
    english_works = True
    try:
        es_client.indices.analyze(analyzer="english", text="running")
    except Exception:  # noqa: BLE001 - any refusal means the analyzer is not usable
        english_works = False
    assert features.english_analyzer == english_works

    report = setup_indices(es_client, settings)
    names = IndexNames(settings.index_prefix)
    live = es_client.indices.get_mapping(index=names.articles).body[names.concrete("articles", 1)]["mappings"]
    assert ("text.english" in flatten_properties(live["properties"])) == features.english_analyzer
    template = es_client.indices.get_index_template(name=names.template("events")).body["index_templates"][0]
    composed = template["index_template"]["composed_of"]
    if features.ilm:
        assert names.component("events", "lifecycle") in composed
        assert es_client.ilm.get_lifecycle(name=names.ilm_policy("events"))
        assert report.ilm.startswith("policy attached")
    else:
        assert names.component("events", "lifecycle") not in composed
        assert report.ilm.startswith("skipped: cluster has no ILM")
