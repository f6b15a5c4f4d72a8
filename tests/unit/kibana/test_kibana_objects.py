"""The committed saved objects are current, reference only mapped fields, and are well-formed."""

from __future__ import annotations

import json

import pytest

from pipeline.cli.kibana import DEFAULT_FILE
from pipeline.kibana.objects import FieldRef, build_saved_objects, missing_fields, to_ndjson


def test_committed_file_is_current():
    assert DEFAULT_FILE.read_text(encoding="utf-8") == to_ndjson(build_saved_objects()), (
        "kibana/saved_objects.ndjson is stale: run `newswatch kibana export`")


def test_every_referenced_field_is_in_the_mappings():
    so = build_saved_objects()
    assert len(so.fields) > 20
    assert missing_fields(so) == []


def test_a_missing_field_is_detected():
    so = build_saved_objects()
    so.fields.append(FieldRef("claims", "speaker.nickname", "a test"))
    assert missing_fields(so) == ["claims: speaker.nickname (used by a test)"]


def test_objects_are_well_formed_and_references_resolve():
    objects = [json.loads(line) for line in to_ndjson(build_saved_objects()).splitlines()]
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects)
    types = [o["type"] for o in objects]
    assert types.count("index-pattern") == 4 and types.count("search") == 3 and types.count("dashboard") == 1
    titles = {o["attributes"]["title"] for o in objects}
    assert {"Claims by speaker", "Low-certainty claims", "Failed fetches", "newswatch overview"} <= titles
    for o in objects:
        for ref in o["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{o['id']} references a missing {ref}"
        for key in ("visState", "panelsJSON", "optionsJSON", "fieldFormatMap"):
            if key in o["attributes"]:
                json.loads(o["attributes"][key])
        meta = o["attributes"].get("kibanaSavedObjectMeta")
        if meta:
            source = json.loads(meta["searchSourceJSON"])
            if "indexRefName" in source:
                assert source["indexRefName"] in {r["name"] for r in o["references"]}
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    assert len(panels) == len(dashboard["references"]) >= 5
    views = {o["attributes"]["title"]: o["attributes"]["timeFieldName"] for o in objects if o["type"] == "index-pattern"}
    assert views["newswatch-articles"] == "published_at" and views["newswatch-events"] == "at"


@pytest.mark.parametrize("prefix", ["newswatch", "acme"])
def test_data_views_follow_the_prefix(prefix):
    objects = [json.loads(line) for line in to_ndjson(build_saved_objects(prefix)).splitlines()]
    assert {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"} == {
        f"{prefix}-{k}" for k in ("articles", "claims", "feeds", "events")}


def test_export_check_cli(tmp_path, capsys):
    from pipeline.cli import main

    assert main(["kibana", "export", "--check"]) == 0
    stale = tmp_path / "objects.ndjson"
    stale.write_text("{}\n", encoding="utf-8")
    assert main(["kibana", "export", "--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["kibana", "export", "--out", str(stale)]) == 0
    assert main(["kibana", "export", "--check", "--out", str(stale)]) == 0
