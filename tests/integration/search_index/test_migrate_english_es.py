"""An index made before the English analysis, on the real node: setup adds the `.english` subfields in place
and warns that the stored documents are not analysed into them; status says so until `migrate` re-indexes
them, after which a search for "elections" finds the older "election"."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeline.cli import main
from pipeline.index.analysis import MARKER
from pipeline.index.derive import flatten_properties
from pipeline.index.features import detect_features
from pipeline.index.migrate import index_status, migrate
from pipeline.index.names import IndexNames
from pipeline.index.setup import setup_indices
from pipeline.index.synthetic import ClaimSpec, tagged_article
from pipeline.index.writer import IndexWriter
from pipeline.search import SearchQuery, search

pytestmark = pytest.mark.integration

TEXT = "Officials said the election was postponed. The election date will be announced in May."
CLAIM = "The election date will be announced in May."


@pytest.fixture
def english(es_client):
    features = detect_features(es_client, refresh=True)
    if not features.english_analyzer:
        assert os.environ.get("NEWSWATCH_ES_URL"), "the embedded node must have English analysis"
        pytest.skip("this cluster has no english analyzer")
    return features


def _older_indices(es_client, settings, english) -> None:
    """The indices as a cluster detected without the English analyzer made them."""
    report = setup_indices(es_client, settings, features=replace(english, english_analyzer=False))
    names = IndexNames(settings.index_prefix)
    assert names.concrete("articles", 1) in report.created
    live = es_client.indices.get_mapping(index=names.articles).body[names.concrete("articles", 1)]["mappings"]
    assert "text.english" not in flatten_properties(live["properties"])


def _search(es_client, settings, text: str, *, claims: bool = False) -> tuple[list[str], list[str]]:
    resp = search(es_client, SearchQuery(text=text, claims=claims, facets=False), settings)
    return [a.url for a in resp.articles], [c.text for c in resp.claims]


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "pipeline.index.setup" and r.levelno == logging.WARNING]


def test_setup_warns_status_reports_and_migrate_brings_english_search(es_client, settings, english, caplog,
                                                                      capsys, monkeypatch):
    names = IndexNames(settings.index_prefix)
    _older_indices(es_client, settings, english)
    article = tagged_article("https://old.example/election", TEXT, title="Date postponed",
                             published_at=datetime(2025, 5, 1, tzinfo=UTC), claims=[ClaimSpec(CLAIM)])
    assert IndexWriter(es_client, settings, refresh="wait_for").write([article]).ok
    assert _search(es_client, settings, "election") == (["https://old.example/election"], [])
    assert _search(es_client, settings, "elections") == ([], [])

    caplog.set_level(logging.INFO, logger="pipeline.index")
    report = setup_indices(es_client, settings)
    assert report.without_english == {names.concrete("articles", 1): 1, names.concrete("claims", 1): 1}
    assert report.drift == {}
    (warning,) = _warnings(caplog)
    assert f"{names.concrete('articles', 1)} holds 1 document(s)" in warning
    assert f"{names.concrete('claims', 1)} holds 1 document(s)" in warning
    assert "indexed without the English analysis" in warning
    assert "`newswatch index migrate articles claims`" in warning
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    live = es_client.indices.get_mapping(index=names.articles).body[names.concrete("articles", 1)]["mappings"]
    assert "text.english" in flatten_properties(live["properties"]) and live["_meta"][MARKER] == 1
    # the subfields are in the mapping, yet the stored documents were never analysed into them
    assert _search(es_client, settings, "elections") == ([], [])
    assert _search(es_client, settings, "elections", claims=True) == ([], [])

    caplog.clear()
    assert setup_indices(es_client, settings).without_english == {}  # warned once; the marker stays
    assert _warnings(caplog) == []
    statuses = {s.kind: s for s in index_status(es_client, settings)}
    assert (statuses["articles"].without_english, statuses["claims"].without_english) == (1, 1)
    assert "run `newswatch index migrate articles`" in statuses["articles"].advice
    assert "run `newswatch index migrate claims`" in statuses["claims"].advice
    assert not any(s.drift or s.without_english for k, s in statuses.items() if k not in ("articles", "claims"))

    monkeypatch.setenv("NEWSWATCH_ES_URL", settings.es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    assert main(["index", "status"]) == 0  # advice, not drift
    out = capsys.readouterr().out
    assert f"re-index needed: {names.concrete('articles', 1)}" not in out  # per alias
    assert f"re-index needed: {names.articles} holds 1 document(s) indexed without the English analysis" in out
    assert main(["index", "status", "--json"]) == 0
    by_kind = {s["kind"]: s for s in json.loads(capsys.readouterr().out)}
    assert by_kind["claims"]["without_english"] == 1 and "migrate claims" in by_kind["claims"]["advice"]
    assert by_kind["feeds"]["without_english"] == 0 and by_kind["feeds"]["advice"] == ""

    caplog.clear()
    assert main(["index", "migrate", "articles", "claims"]) == 0
    assert _warnings(caplog) == []  # no advice to migrate while migrating
    assert f"-> {names.concrete('articles', 2)}  1 doc(s)" in capsys.readouterr().out
    assert _search(es_client, settings, "elections") == (["https://old.example/election"], [])
    assert _search(es_client, settings, "elections", claims=True) == ([], [CLAIM])
    hit = search(es_client, SearchQuery(text="elections"), settings).articles[0]
    assert any("<em>election</em>" in f for f in hit.highlights["text"])
    statuses = {s.kind: s for s in index_status(es_client, settings)}
    assert not any(s.without_english or s.advice or s.drift for s in statuses.values())
    assert main(["index", "status"]) == 0
    assert "re-index needed" not in capsys.readouterr().out


def test_an_empty_index_gains_the_subfields_without_advice(es_client, settings, english, caplog):
    names = IndexNames(settings.index_prefix)
    _older_indices(es_client, settings, english)
    caplog.set_level(logging.INFO, logger="pipeline.index")
    report = setup_indices(es_client, settings)
    assert names.articles in report.mapping_updated and names.claims in report.mapping_updated
    assert (report.without_english, report.advice) == ({}, "")
    assert _warnings(caplog) == []
    live = es_client.indices.get_mapping(index=names.articles).body[names.concrete("articles", 1)]["mappings"]
    assert "text.english" in flatten_properties(live["properties"]) and MARKER not in live["_meta"]
    assert not any(s.without_english or s.advice for s in index_status(es_client, settings))


def test_migrate_alone_adds_the_subfields_and_re_indexes(es_client, settings, english, caplog):
    """An operator who runs `migrate` straight after the upgrade, without `setup`: no advice, full search."""
    names = IndexNames(settings.index_prefix)
    _older_indices(es_client, settings, english)
    article = tagged_article("https://old.example/election", TEXT, title="Date postponed", claims=[ClaimSpec(CLAIM)])
    assert IndexWriter(es_client, settings, refresh="wait_for").write([article]).ok
    caplog.set_level(logging.INFO, logger="pipeline.index")
    results = migrate(es_client, settings, ["articles"])
    assert [(r.target, r.copied) for r in results] == [(names.concrete("articles", 2), 1)]
    (warning,) = _warnings(caplog)  # claims were not migrated: they still need it
    assert "`newswatch index migrate claims`" in warning and names.concrete("articles", 1) not in warning
    assert _search(es_client, settings, "elections") == (["https://old.example/election"], [])
    statuses = {s.kind: s for s in index_status(es_client, settings)}
    assert (statuses["articles"].without_english, statuses["claims"].without_english) == (0, 1)
