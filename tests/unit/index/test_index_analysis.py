"""Which analysis an index's documents were written with (pipeline.index.analysis): the `_meta` marker setup
writes when it adds the `.english` subfields over stored documents, and the advice status and setup give.
The real node side is tests/integration/search_index/test_migrate_english_es.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from pipeline.index import analysis
from pipeline.index.features import ClusterFeatures
from pipeline.index.mappings import mapping_for
from pipeline.index.migrate import IndexStatus
from pipeline.index.names import IndexNames
from pipeline.index.setup import SetupReport, _advise, _update_live_mapping

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_english_subfields_are_told_apart():
    old, new = mapping_for("articles", False)["properties"], mapping_for("articles", True)["properties"]
    assert not analysis.has_english(old) and analysis.has_english(new)
    assert analysis.adds_english(old, new)
    assert not analysis.adds_english(new, new)
    assert not analysis.adds_english(old, old)
    events = mapping_for("events", True)["properties"]  # no prose fields: nothing to add
    assert not analysis.adds_english({}, events)


def test_the_marker_counts_documents_and_is_kept_across_meta_updates():
    assert analysis.marker(0, NOW) == {}
    marked = analysis.marker(12, NOW)
    assert marked == {analysis.MARKER: 12, analysis.MARKER_SINCE: "2026-01-02T03:04:05+00:00"}
    live_meta = {"mapping_hash": "old", "newswatch_kind": "articles", **marked}
    assert analysis.carried(live_meta) == marked
    assert analysis.carried({"mapping_hash": "old"}) == {}
    assert analysis.docs_without_english(live_meta) == 12
    for meta in ({}, {analysis.MARKER: None}, {analysis.MARKER: "many"}, {analysis.MARKER: -3}):
        assert analysis.docs_without_english(meta) == 0


def test_advice_names_the_indices_and_the_command_to_run():
    text = analysis.advice({"nw-articles-v1": 3, "nw-claims-v1": 7}, ["articles", "claims", "articles"])
    assert text.startswith("nw-articles-v1 holds 3 document(s), nw-claims-v1 holds 7 document(s) indexed "
                           "without the English analysis")
    assert text.endswith("run `newswatch index migrate articles claims`")


def test_status_advises_only_when_documents_lack_the_analysis():
    status = IndexStatus("claims", "nw-claims", ["nw-claims-v1"])
    assert status.advice == "" and not status.drift
    status.without_english = 4
    assert status.advice.startswith("nw-claims holds 4 document(s) indexed without the English analysis")
    assert status.advice.endswith("run `newswatch index migrate claims`")
    assert not status.drift  # advice, not drift: the mapping itself matches


class _Indices:
    def __init__(self, live: dict[str, Any], docs: int) -> None:
        self.live, self.docs, self.puts = live, docs, []

    def get_mapping(self, index: str) -> SimpleNamespace:
        return SimpleNamespace(body=self.live)

    def put_mapping(self, index: str, **body: Any) -> None:
        self.puts.append((index, body))

    def refresh(self, index: str) -> None:
        pass


class _Es:
    def __init__(self, live: dict[str, Any], docs: int) -> None:
        self.indices = _Indices(live, docs)

    def count(self, index: str) -> dict[str, int]:
        return {"count": self.indices.docs}


def _live(english: bool, **meta: Any) -> dict[str, Any]:
    body = mapping_for("articles", english)
    return {"nw-articles-v1": {"mappings": {"properties": body["properties"], "_meta": {**body["_meta"], **meta}}}}


def test_adding_english_over_stored_documents_marks_the_index():
    es = _Es(_live(False), docs=5)
    report = SetupReport(features=ClusterFeatures(english_analyzer=True))
    _update_live_mapping(es, IndexNames("nw"), "articles", True, report)  # type: ignore[arg-type]
    (index, first), (_, second) = es.indices.puts
    assert index == "nw-articles-v1" and analysis.MARKER not in first["_meta"]
    assert analysis.has_english(first["properties"])
    assert second["meta"][analysis.MARKER] == 5
    assert second["meta"]["mapping_hash"] == mapping_for("articles", True)["_meta"]["mapping_hash"]
    assert report.without_english == {"nw-articles-v1": 5} and report.mapping_updated == ["nw-articles"]


def test_an_empty_index_gains_english_without_a_marker():
    es = _Es(_live(False), docs=0)
    report = SetupReport(features=ClusterFeatures(english_analyzer=True))
    _update_live_mapping(es, IndexNames("nw"), "articles", True, report)  # type: ignore[arg-type]
    assert len(es.indices.puts) == 1 and report.without_english == {}


def test_a_later_additive_change_keeps_the_marker():
    es = _Es(_live(True, mapping_hash="older", **analysis.marker(9, NOW)), docs=20)
    report = SetupReport(features=ClusterFeatures(english_analyzer=True))
    _update_live_mapping(es, IndexNames("nw"), "articles", True, report)  # type: ignore[arg-type]
    ((_, body),) = es.indices.puts  # the English subfields were there already: no new count
    assert body["_meta"][analysis.MARKER] == 9 and body["_meta"]["mapping_hash"] != "older"
    assert report.without_english == {}


def test_setup_warns_once_and_not_about_what_a_migration_copies(caplog):
    caplog.set_level(logging.INFO, logger="pipeline.index.setup")
    report = SetupReport(features=ClusterFeatures(), without_english={"nw-articles-v1": 2, "nw-claims-v1": 3})
    _advise(report, {"articles": {"nw-articles-v1": 2}, "claims": {"nw-claims-v1": 3}})
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == report.advice
    assert "nw-articles-v1 holds 2" in report.advice and report.advice.endswith("migrate articles claims`")

    caplog.clear()
    migrating = SetupReport(features=ClusterFeatures(), without_english={"nw-articles-v1": 2})
    _advise(migrating, {})  # the only kind affected is the one being migrated
    assert migrating.advice == "" and not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("the migration re-indexes" in r.getMessage() for r in caplog.records)
