"""Migrations against the real node: copy into the next version, flip the alias atomically, report drift."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from pipeline.index.features import detect_features
from pipeline.index.migrate import index_status, migrate
from pipeline.index.names import IndexNames
from pipeline.index.setup import setup_indices
from pipeline.index.synthetic import recombined_corpus
from pipeline.search import SearchQuery, search

pytestmark = pytest.mark.integration


def test_migrate_copies_and_flips_the_alias(es_client, settings, writer):
    names = IndexNames(settings.index_prefix)
    batch = list(recombined_corpus(30, seed=21))
    assert writer.write(batch).ok
    claims = sum(len(t.tags.claims) for t in batch)
    before = search(es_client, SearchQuery(entities=["DPRK"]), settings).total

    results = migrate(es_client, settings, ["articles", "claims"])
    assert [(r.kind, r.source, r.target, r.copied) for r in results] == [
        ("articles", [names.concrete("articles", 1)], names.concrete("articles", 2), 30),
        ("claims", [names.concrete("claims", 1)], names.concrete("claims", 2), claims),
    ]
    expected_method = "_reindex" if detect_features(es_client).reindex else "scan+bulk"
    assert all(r.method.startswith(expected_method) for r in results)
    assert list(es_client.indices.get_alias(name=names.articles).body) == [names.concrete("articles", 2)]
    assert list(es_client.indices.get_alias(name=names.claims).body) == [names.concrete("claims", 2)]
    assert search(es_client, SearchQuery(entities=["DPRK"]), settings).total == before
    # the old version stays (read-only) for a rollback; the writer keeps working through the alias
    assert es_client.indices.exists(index=names.concrete("articles", 1))
    again = writer.write(batch[:5])
    assert again.ok and again.claims_deleted == 0
    es_client.indices.refresh(index=names.articles)
    assert es_client.count(index=names.articles)["count"] == 30

    statuses = {s.kind: s for s in index_status(es_client, settings)}
    assert statuses["articles"].current == [names.concrete("articles", 2)]
    assert statuses["articles"].versions == {names.concrete("articles", 1): 30, names.concrete("articles", 2): 30}
    assert not any(s.drift for s in statuses.values())


def test_status_reports_drift_and_migrate_repairs_it(es_client, settings, capsys, monkeypatch):
    names = IndexNames(settings.index_prefix)
    # an old version whose `site` field was text: a conflicting change that cannot be applied in place
    old = names.concrete("articles", 1)
    es_client.indices.create(index=old, mappings={"properties": {"site": {"type": "text"}}},
                             aliases={names.articles: {}})
    es_client.index(index=names.articles, id="a1", document={"site": "example.org", "title": "kept"}, refresh=True)
    report = setup_indices(es_client, settings)
    assert names.articles in report.drift
    drift = {s.kind: s for s in index_status(es_client, settings)}["articles"]
    assert drift.drift and drift.wrong_type["site"] == "text (expected keyword)"

    monkeypatch.setenv("NEWSWATCH_ES_URL", settings.es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    assert main(["index", "status"]) == 1
    assert "drift: site is text (expected keyword)" in capsys.readouterr().out
    assert main(["index", "migrate", "articles", "--delete-old"]) == 0
    assert f"-> {names.concrete('articles', 2)}  1 doc(s)" in capsys.readouterr().out
    assert main(["index", "status"]) == 0
    assert not es_client.indices.exists(index=old)
    assert es_client.get(index=names.articles, id="a1")["_source"]["title"] == "kept"
    terms = es_client.search(index=names.articles, size=0, aggs={"s": {"terms": {"field": "site"}}})
    assert [b["key"] for b in terms["aggregations"]["s"]["buckets"]] == ["example.org"]  # keyword now
