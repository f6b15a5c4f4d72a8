from pathlib import Path

import pytest

from pipeline.records import FeedEntry
from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool, safe_key


def _entry(n: int) -> FeedEntry:
    return FeedEntry(feed_id="f", url=f"http://x/{n}", canonical_url=f"http://x/{n}", article_id=f"a{n}")


def test_write_read_delete_roundtrip(tmp_path: Path):
    spool = Spool(tmp_path)
    assert spool.keys(ENTRIES) == []
    assert spool.write(ENTRIES, "run:1+00.s0-c0", [_entry(1), _entry(2)]) == 2
    key = safe_key("run:1+00.s0-c0")
    assert spool.keys(ENTRIES) == [key]
    rows = spool.read(ENTRIES, "run:1+00.s0-c0")
    assert [FeedEntry.model_validate(r).article_id for r in rows] == ["a1", "a2"]
    spool.delete(ENTRIES, "run:1+00.s0-c0")
    spool.delete(ENTRIES, "run:1+00.s0-c0")  # idempotent
    assert spool.keys(ENTRIES) == []


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.write(TAGGED, "c", [{"kind": "event", "data": {"x": 1}}])
    spool.write(TAGGED, "c", [{"kind": "event", "data": {"x": 2}}])  # replaced, not appended
    assert spool.read(TAGGED, "c") == [{"kind": "event", "data": {"x": 2}}]
    assert [p.name for p in (tmp_path / TAGGED).iterdir()] == ["c.jsonl"]


def test_json_documents_and_unknown_kind(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.write_json(RUNS, "r1", {"articles_indexed": 3})
    assert spool.read_json(RUNS, "r1") == {"articles_indexed": 3}
    assert spool.keys(RUNS) == ["r1"]
    with pytest.raises(ValueError, match="unknown spool kind"):
        spool.path("nope", "k")


def test_safe_key_keeps_keys_file_name_safe():
    assert safe_key("manual__2026-11-28T11:50:00+00:00") == "manual__2026-11-28T11_50_00_00_00"
    assert safe_key("../../etc/passwd") == ".._.._etc_passwd"
