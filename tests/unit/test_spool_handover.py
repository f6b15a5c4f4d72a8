"""The spool and the hand-over between the ingest tasks, in detail: file layout and names, atomic
replacement on local disks, direct writes on object stores, and what each task leaves behind for
the next one (or for its own retry). The cluster is a stand-in here; tests/integration/
test_ingest_skips_indexed_es.py runs the same steps against a real one. (Mutation testing found
these unpinned: scripts/mutation spool.)"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_settings
from pipeline.feeds.poller import PollResult
from pipeline.index.errors import ClusterUnavailable
from pipeline.jobs import flow, ingest
from pipeline.jobs.sink import IndexSink, Written
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, Event, FeedEntry, Processed, TaggedArticle
from pipeline.spool import ENTRIES, RETAG, RUNS, TAGGED, Spool, _is_local, default_root, safe_key
from pipeline.tagging.schema import Tagger, TagResult

SETTINGS = load_settings({})


def _entry(n: int, feed: str = "f") -> FeedEntry:
    return FeedEntry(feed_id=feed, url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}", article_id=f"a{n}")


def _tagged(n: int) -> TaggedArticle:
    article = Article(article_id=f"a{n}", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}",
                      outcome=Outcome.success(), text="Text.")
    return TaggedArticle(article=article, tags=TagResult(tagger=Tagger(version="t")))


# --- the spool itself ------------------------------------------------------------------------------


def test_layout_names_and_suffixes(tmp_path: Path):
    spool = Spool(tmp_path)
    assert spool.path(ENTRIES, "run:1+00.s0") == tmp_path / "entries" / "run_1_00.s0.jsonl"
    assert spool.path(RETAG, "k") == tmp_path / "retag" / "k.jsonl"
    assert spool.path(TAGGED, "k") == tmp_path / "tagged" / "k.jsonl"
    assert spool.path(RUNS, "k") == tmp_path / "runs" / "k.json"
    assert default_root("/data/nw") == Path("/data/nw/spool")
    assert safe_key("::") == "run" and safe_key("_a_") == "a" and safe_key("a b/c") == "a_b_c"
    assert safe_key("X1.X") == "X1.X"
    with pytest.raises(ValueError, match="^unknown spool kind 'tmp'$"):
        spool.path("tmp", "k")


def test_lines_and_json_documents_on_disk(tmp_path: Path):
    spool = Spool(tmp_path)
    assert spool.write(ENTRIES, "k", [_entry(1), {"article_id": "b", "note": "é"}]) == 2
    text = spool.path(ENTRIES, "k").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one record per line, each ending in a newline
    assert json.loads(lines[0]) == json.loads(_entry(1).model_dump_json())
    assert lines[1] == '{"article_id": "b", "note": "é"}'  # UTF-8, not \\u escapes
    assert spool.write(ENTRIES, "empty", []) == 0 and spool.path(ENTRIES, "empty").read_text() == ""
    spool.path(ENTRIES, "blank").write_text('{"a": 1}\n\n  \n{"a": 2}\n')
    assert spool.read(ENTRIES, "blank") == [{"a": 1}, {"a": 2}]
    spool.write(TAGGED, "dates", [{"at": Path("/x")}])  # anything else is written as its str()
    assert spool.read(TAGGED, "dates") == [{"at": "/x"}]
    spool.write_json(RUNS, "at", {"at": datetime(2026, 11, 1, tzinfo=UTC)})  # anything else: its str()
    assert spool.read_json(RUNS, "at") == {"at": "2026-11-01 00:00:00+00:00"}
    spool.write_json(RUNS, "r", {"b": 1, "a": [1, 2]})
    assert spool.path(RUNS, "r").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'
    assert spool.read_json(RUNS, "r") == {"a": [1, 2], "b": 1}


def test_keys_are_sorted_and_only_of_their_kind(tmp_path: Path):
    spool = Spool(tmp_path)
    assert spool.keys(TAGGED) == []  # no folder yet
    for key in ("r2.c0", "r1.c1", "r1.c0"):
        spool.write(TAGGED, key, [])
    spool.write_json(RUNS, "r1", {})
    (tmp_path / TAGGED / ".r1.c9.jsonl.abc.tmp").write_text("half")  # a write in progress
    (tmp_path / TAGGED / "notes.txt").write_text("x")
    assert spool.keys(TAGGED) == ["r1.c0", "r1.c1", "r2.c0"]
    assert spool.keys(RUNS) == ["r1"]
    assert spool.exists(TAGGED, "r1.c0") and not spool.exists(TAGGED, "r9.c0") and not spool.exists(ENTRIES, "r1.c0")
    spool.delete(TAGGED, "r1.c0")
    spool.delete(TAGGED, "never-written")
    assert spool.keys(TAGGED) == ["r1.c1", "r2.c0"]


class StorePath:
    """An object-store path in memory, with pathlib's small surface (like ObjectStoragePath): objects
    appear when their upload is closed. `protocol` and `replace` as the real one has them."""

    def __init__(self, store: dict[str, str], key: str = "", protocol: Any = "s3", can_replace: bool = False,
                 log: list[str] | None = None) -> None:
        self.store, self.key, self.protocol, self.log = store, key, protocol, log if log is not None else []
        self.name = key.rsplit("/", 1)[-1]
        if can_replace:
            self.replace = self._replace

    def _new(self, key: str) -> StorePath:
        return StorePath(self.store, key, self.protocol, hasattr(self, "replace"), self.log)

    @property
    def parent(self) -> StorePath:
        return self._new(self.key.rsplit("/", 1)[0] if "/" in self.key else "")

    def __truediv__(self, other: str) -> StorePath:
        return self._new(f"{self.key}/{other}" if self.key else other)

    def open(self, mode: str = "r", **kwargs: Any) -> Any:
        self.log.append(f"open {mode} {self.key} {kwargs.get('encoding')}")
        if "r" in mode:
            return io.StringIO(self.store[self.key])
        path = self

        class Upload(io.StringIO):
            def close(self) -> None:
                path.store[path.key] = self.getvalue()
                super().close()
        return Upload()

    def exists(self) -> bool:
        return self.key in self.store or any(k.startswith(self.key + "/") for k in self.store)

    def unlink(self, missing_ok: bool = False) -> None:
        del self.store[self.key]

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        self.log.append(f"mkdir {self.key}")

    def iterdir(self):
        prefix = self.key + "/"
        return iter([self._new(k) for k in sorted(self.store) if k.startswith(prefix) and "/" not in k[len(prefix):]])

    def _replace(self, target: StorePath) -> None:
        self.log.append(f"replace {self.key} -> {target.key}")
        target.store[target.key] = self.store.pop(self.key)


def test_object_stores_get_one_direct_upload_per_batch():
    store: dict[str, str] = {}
    root = StorePath(store, "spool")
    spool = Spool(root)
    assert not _is_local(root / "x")
    spool.write(ENTRIES, "r.s0", [_entry(1)])
    assert root.log == ["mkdir spool/entries", "open w spool/entries/r.s0.jsonl utf-8"]  # no temporary object
    assert [FeedEntry.model_validate(r).article_id for r in spool.read(ENTRIES, "r.s0")] == ["a1"]
    assert spool.keys(ENTRIES) == ["r.s0"]
    spool.delete(ENTRIES, "r.s0")
    assert store == {}


@pytest.mark.parametrize("protocol", ["file", "local", ("file", "local"), ["local"]])
def test_local_object_storage_paths_are_written_beside_then_renamed(protocol):
    store: dict[str, str] = {}
    root = StorePath(store, "spool", protocol=protocol, can_replace=True)
    assert _is_local(root / "x")
    Spool(root).write(TAGGED, "c", [{"a": 1}])
    opened, replaced = root.log[1], root.log[2]
    _, mode, key, encoding = opened.split()
    assert (mode, encoding) == ("w", "utf-8") and key.startswith("spool/tagged/.c.jsonl.") and key.endswith(".tmp")
    assert replaced == f"replace {key} -> spool/tagged/c.jsonl"
    assert store == {"spool/tagged/c.jsonl": '{"a": 1}\n'}


def test_what_counts_as_a_local_disk(tmp_path: Path):
    assert _is_local(tmp_path / "x")
    assert not _is_local(type("Bare", (), {"replace": None})())  # no protocol attribute at all
    assert not _is_local(StorePath({}, "x", protocol="file"))  # cannot rename
    assert not _is_local(StorePath({}, "x", protocol=(), can_replace=True))
    assert not _is_local(StorePath({}, "x", protocol="s3", can_replace=True))
    assert not _is_local(StorePath({}, "x", protocol=("s3", "file"), can_replace=True))  # the first one counts


# --- the hand-over between the tasks ----------------------------------------------------------------


class Writer:
    """Stands in for IndexWriter: records what it is given; `down` makes the cluster away, `rejected`
    articles come back as failed items."""

    down = False
    events: list[Event] = []
    written: list[str] = []
    rejected: set[str] = set()
    made_with: list[tuple[Any, Any]] = []
    calls: list[tuple[list[str], str]] = []
    gate: threading.Event | None = None
    event_failures: list[Any] = []

    def __init__(self, es: Any = None, settings: Any = None) -> None:
        Writer.made_with.append((es, settings))

    def write(self, batch: list[TaggedArticle]) -> Any:
        Writer.calls.append(([t.article.article_id for t in batch], threading.current_thread().name))
        if Writer.gate is not None:
            Writer.gate.wait(10)
        if Writer.down:
            raise ClusterUnavailable("away")
        Writer.written += [t.article.article_id for t in batch if t.article.article_id not in Writer.rejected]
        failed = [type("Item", (), {"article_id": t.article.article_id,
                                    "outcome": Outcome.failure(Status.INDEX_ERROR, "mapper_parsing_exception")})()
                  for t in batch if t.article.article_id in Writer.rejected]
        return type("Report", (), {"failed": failed})()

    def record_events(self, events: list[Event]) -> Any:
        if Writer.down:
            raise ClusterUnavailable("away")
        Writer.events += events
        return type("Report", (), {"failures": list(Writer.event_failures)})()


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> type[Writer]:
    Writer.down, Writer.events, Writer.written, Writer.rejected, Writer.made_with = False, [], [], set(), []
    Writer.calls, Writer.gate, Writer.event_failures = [], None, []
    monkeypatch.setattr(ingest, "IndexWriter", Writer)
    monkeypatch.setattr(ingest, "es_client", lambda settings: "es" if settings is SETTINGS else "es of other settings")
    monkeypatch.setattr(ingest, "state_store", lambda es, settings: "store")
    monkeypatch.setattr(ingest, "stories_for", lambda es, settings: None)  # no clustering without a cluster
    return Writer


def _polled(monkeypatch: pytest.MonkeyPatch, results: list[PollResult], indexed: set[str]) -> list[list[str]]:
    asked: list[list[str]] = []

    def existing(es: Any, ids: list[str], settings: Any) -> set[str]:
        assert es == "es"
        asked.append(list(ids))
        return indexed & set(ids)

    monkeypatch.setattr("pipeline.feeds.poller.poll_feeds", lambda feeds, store, settings: results)
    monkeypatch.setattr("pipeline.index.writer.existing_article_ids", existing)
    return asked


FEEDS = [{"id": f, "name": f, "url": f"http://x.test/{f}.xml"} for f in ("a", "b", "c")]


def test_poll_shard_spools_new_unindexed_entries_once_and_records_feed_failures(tmp_path, monkeypatch, cluster):
    results = [
        PollResult(feed_id="a", url="u", outcome=Outcome.success(), new_entries=[_entry(1, "a"), _entry(2, "a")]),
        PollResult(feed_id="b", url="u", outcome=Outcome(status=Status.NOT_MODIFIED)),
        PollResult(feed_id="d", url="u", outcome=Outcome(status=Status.NOT_MODIFIED)),
        PollResult(feed_id="c", url="u", outcome=Outcome.failure(Status.HTTP_ERROR, "HTTP 500", 500),
                   new_entries=[_entry(2, "c"), _entry(3, "c")]),  # a2 again, from another feed
    ]
    asked = _polled(monkeypatch, results, indexed={"a1"})
    spool = Spool(tmp_path)
    polled = ingest.poll_shard({"run_key": "r", "shard": 4, "feeds": FEEDS}, spool, SETTINGS)
    assert polled == {"run_key": "r", "shard": 4, "feeds_polled": 4, "feeds_not_modified": 2, "new_entries": 2,
                      "skipped_existing": 1, "failures": {"feeds:http_error": 1}}
    assert asked == [["a1", "a2", "a3"]]
    assert [(r["article_id"], r["feed_id"]) for r in spool.read(ENTRIES, "r.s4")] == [("a2", "a"), ("a3", "c")]
    assert spool.read_json(RUNS, "r.poll-4") == polled
    (event,) = cluster.events
    assert (event.stage, event.status, event.feed_id, event.run_id) == ("feeds", "http_error", "c", "r")
    assert cluster.made_with == [("es", SETTINGS)]  # the events go to the cluster the entries were checked in

    # a retry of the task: the manifest answers, nothing is polled or spooled again
    monkeypatch.setattr("pipeline.feeds.poller.poll_feeds", lambda *a: pytest.fail("polled again"))
    assert ingest.poll_shard({"run_key": "r", "shard": 4, "feeds": FEEDS}, spool, SETTINGS) == polled


def test_poll_shard_with_nothing_new_writes_no_batch(tmp_path, monkeypatch, cluster):
    _polled(monkeypatch, [PollResult(feed_id="a", url="u", outcome=Outcome.success(), new_entries=[_entry(1)])],
            indexed={"a1"})
    spool = Spool(tmp_path)
    polled = ingest.poll_shard({"run_key": "r", "shard": 0, "feeds": FEEDS[:1]}, spool, SETTINGS)
    assert (polled["new_entries"], polled["skipped_existing"], polled["failures"]) == (0, 1, {})
    assert spool.keys(ENTRIES) == [] and spool.keys(RUNS) == ["r.poll-0"] and cluster.events == []


def test_plan_chunks_with_nothing_spooled(tmp_path):
    spool = Spool(tmp_path)
    assert ingest.plan_chunks("r", spool, SETTINGS) == []
    assert spool.keys(ENTRIES) == []


def test_plan_chunks_splits_evenly_and_keeps_tagged_batches_of_this_run_once(tmp_path):
    spool = Spool(tmp_path)
    spool.write(ENTRIES, "r.s0", [_entry(n) for n in range(7)])
    spool.write(TAGGED, "r.c1", [Processed()])  # this run's chunk 1 is already waiting for the index
    settings = load_settings({}, ingest_chunk_size=3)
    chunks = ingest.plan_chunks("r", spool, settings)
    assert chunks == [{"chunk_id": "r.c0"}, {"chunk_id": "r.c1"}, {"chunk_id": "r.c2"}]
    assert [[row["article_id"] for row in spool.read(ENTRIES, c["chunk_id"])] for c in chunks] == [
        ["a0", "a1", "a2"], ["a3", "a4", "a5"], ["a6"]]
    settings = load_settings({}, ingest_chunk_size=0)  # a retry with another chunk size: regrouped, at least 1 each
    assert ingest.plan_chunks("r", spool, settings) == [{"chunk_id": f"r.c{n}"} for n in range(7)]
    assert [len(spool.read(ENTRIES, f"r.c{n}")) for n in range(7)] == [1] * 7
    spool.write(TAGGED, "q.c0", [Processed()])  # an earlier run's batch waiting for the index
    assert ingest.plan_chunks("r", spool, load_settings({}, ingest_chunk_size=10)) == [
        {"chunk_id": "r.c0"}, {"chunk_id": "q.c0"}, {"chunk_id": "r.c1"}]
    assert spool.keys(ENTRIES) == ["r.c0"] and len(spool.read(ENTRIES, "r.c0")) == 7


def test_settled_tells_a_retry_what_is_left(tmp_path):
    spool = Spool(tmp_path)
    assert ingest.settled("r.c0", ENTRIES, spool) == {"chunk_id": "r.c0", "entries": 0, "articles_indexed": 0,
                                                      "claims": 0, "entities": 0, "failures": {}, "missing": True}
    spool.write(ENTRIES, "r.c0", [_entry(1)])
    assert ingest.settled("r.c0", ENTRIES, spool) is None
    assert ingest.settled("r.c0", RETAG, spool)["missing"] is True  # the source kind is the caller's
    spool.write(TAGGED, "r.c0", [Processed(articles=[_tagged(1), _tagged(2)])])
    assert ingest.settled("r.c0", ENTRIES, spool) == {"chunk_id": "r.c0", "entries": 0, "articles_indexed": 0,
                                                      "claims": 0, "entities": 0, "failures": {}, "deferred": 2}


def _flow(monkeypatch: pytest.MonkeyPatch, seen: list[tuple[str | None, list[str]]]) -> None:
    def run(settings, sink, *, entries=(), ready=(), run_id=None):
        seen.append((run_id, [e.article_id for e in entries] + [a.article_id for a in ready]))
        sink(Processed(articles=[_tagged(int(e.article_id[1:])) for e in entries]))
        return flow.FlowStats(items=len(entries), workers=0)

    monkeypatch.setattr(flow, "run", run)


def test_process_chunk_goes_on_when_the_lookup_finds_the_cluster_away(tmp_path, monkeypatch, cluster):
    seen: list[tuple[str | None, list[str]]] = []
    _flow(monkeypatch, seen)

    def away(es, ids, settings):
        raise ClusterUnavailable("away")

    monkeypatch.setattr("pipeline.index.writer.existing_article_ids", away)
    spool = Spool(tmp_path)
    spool.write(ENTRIES, "manual__2026.c3", [_entry(1), _entry(2)])
    done = ingest.process_chunk({"chunk_id": "manual__2026.c3"}, spool, SETTINGS)
    assert seen == [("manual__2026", ["a1", "a2"])]  # the run id is the chunk id less its chunk number
    assert done == {"chunk_id": "manual__2026.c3", "articles_indexed": 2, "claims": 0, "entities": 0,
                    "failures": {}, "deferred": 0, "workers": 0, "redone": 0, "entries": 2, "skipped_existing": 0}
    assert cluster.written == ["a1", "a2"] and spool.keys(ENTRIES) == []


def test_run_chunk_keeps_what_the_cluster_did_not_take_and_index_chunk_hands_it_over(tmp_path, monkeypatch, cluster):
    seen: list[tuple[str | None, list[str]]] = []
    _flow(monkeypatch, seen)
    spool = Spool(tmp_path)
    spool.write(ENTRIES, "r.c0", [_entry(1), _entry(2)])
    cluster.down = True
    done = ingest.run_chunk("r.c0", ENTRIES, spool, SETTINGS, "es", entries=[_entry(1), _entry(2)])
    assert done["deferred"] == 2 and done["articles_indexed"] == 0
    assert spool.keys(ENTRIES) == [] and spool.keys(TAGGED) == ["r.c0"]
    kept = Processed.model_validate(spool.read(TAGGED, "r.c0")[0])
    assert [t.article.article_id for t in kept.articles] == ["a1", "a2"]

    with pytest.raises(ClusterUnavailable, match="^indexing chunk r.c0: away$"):
        ingest.index_chunk({"chunk_id": "r.c0"}, spool, SETTINGS)
    assert spool.keys(TAGGED) == ["r.c0"]  # still there for the next try
    cluster.down, cluster.rejected, cluster.made_with = False, {"a2"}, []
    assert ingest.index_chunk({"chunk_id": "r.c0"}, spool, SETTINGS) == {
        "chunk_id": "r.c0", "articles_indexed": 1, "claims": 0, "entities": 0, "failures": {"index:index_error": 1},
        "missing": False}
    assert cluster.written == ["a1"] and spool.keys(TAGGED) == []
    assert cluster.made_with == [("es", SETTINGS)]
    (rejected,) = cluster.events
    assert (rejected.stage, rejected.article_id, rejected.run_id) == ("index", "a2", "r")
    assert ingest.index_chunk({"chunk_id": "r.c0"}, spool, SETTINGS) == {
        "chunk_id": "r.c0", "articles_indexed": 0, "claims": 0, "entities": 0, "failures": {}, "missing": True}


def test_the_run_of_a_chunk_keeps_the_dots_of_its_run_key(tmp_path, monkeypatch, cluster, caplog):
    seen: list[tuple[str | None, list[str]]] = []
    _flow(monkeypatch, seen)
    spool = Spool(tmp_path)
    run_key = safe_key("scheduled__2026-11-29T20:00:00.123456+00:00")
    spool.write(RETAG, f"{run_key}.c0", [{"x": 1}])
    caplog.set_level(logging.INFO, logger="pipeline.jobs.ingest")
    done = ingest.run_chunk(f"{run_key}.c0", RETAG, spool, SETTINGS, "es", ready=[_tagged(7).article])
    assert seen == [(run_key, ["a7"])]  # the stored articles to re-tag reach the flow
    assert done["workers"] == 0
    assert (f"chunk {run_key}.c0: 0 items, 0 indexed, 0 kept for the index task; fetched in 0.0s, done in 0.0s "
            "(in-process)") in caplog.messages


def test_articles_rejected_while_a_chunk_streams_are_events_of_its_run(tmp_path, monkeypatch, cluster):
    _flow(monkeypatch, [])
    cluster.rejected = {"a1"}
    done = ingest.run_chunk("r9.c0", ENTRIES, Spool(tmp_path), SETTINGS, "es", entries=[_entry(1), _entry(2)])
    assert done["failures"] == {"index:index_error": 1} and done["articles_indexed"] == 1
    (event,) = cluster.events
    assert (event.stage, event.article_id, event.run_id) == ("index", "a1", "r9")


def test_run_chunk_with_everything_indexed_leaves_nothing_behind(tmp_path, monkeypatch, cluster):
    _flow(monkeypatch, [])
    spool = Spool(tmp_path)
    spool.write(RETAG, "r.c0", [{"x": 1}])
    done = ingest.run_chunk("r.c0", RETAG, spool, SETTINGS, "es", entries=[_entry(5)])
    assert done["deferred"] == 0 and done["articles_indexed"] == 1
    assert spool.keys(RETAG) == [] and spool.keys(TAGGED) == []


def test_sink_defers_only_after_the_cluster_is_found_away(cluster):
    event = Event(event_id="e1", at="2026-11-01T00:00:00Z", stage="fetch", status="timeout")
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(articles=[_tagged(1)], events=[event]))
    report = sink.close()
    assert (report.articles_indexed, report.deferred, report.unavailable) == (1, Processed(), "")
    assert report.written["a1"].claims == 0 and report.outcomes["a1"].ok and report.events == [event]

    cluster.down = True
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(events=[event]))  # only events: the cluster is found away all the same
    sink.submit(Processed(articles=[_tagged(2)]))
    report = sink.close()
    assert report.unavailable == "away" and report.articles_indexed == 0
    assert report.deferred == Processed(articles=[_tagged(2)], events=[event])
    assert report.outcomes == {} and report.events == []


def test_the_chunk_line_names_the_worker_processes(tmp_path, monkeypatch, cluster, caplog):
    monkeypatch.setattr(flow, "run", lambda settings, sink, **kw: flow.FlowStats(items=3, workers=2, redone=1,
                                                                                fetch_seconds=1.25, seconds=2.5))
    spool = Spool(tmp_path)
    caplog.set_level(logging.INFO, logger="pipeline.jobs.ingest")
    ingest.run_chunk("r.c1", ENTRIES, spool, SETTINGS, "es")
    assert caplog.messages == ["chunk r.c1: 3 items, 0 indexed, 0 kept for the index task; fetched in 1.2s, "
                               "done in 2.5s (2 worker processes, 1 batches redone here)"]


# --- the index sink ---------------------------------------------------------------------------------


def _rich(n: int, claims: int, entities: int) -> TaggedArticle:
    from pipeline.tagging.schema import Certainty, Claim, Entity

    tags = TagResult(tagger=Tagger(version="t"),
                     entities=[Entity(id=f"org:e{i}", name=f"E{i}", type="ORG") for i in range(entities)],
                     claims=[Claim(id=f"c{i}", text="x", start=0, end=1, kind="assertion",
                                   certainty=Certainty(level="low"), checkworthiness=0.5) for i in range(claims)])
    article = Article(article_id=f"a{n}", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}",
                      outcome=Outcome.success(), text="x", title=f"Title {n}")
    return TaggedArticle(article=article, tags=tags)


def _settle(sink: IndexSink, count: int) -> None:
    """Wait until the sink's writer has been called `count` times (so the next batch is written apart)."""
    deadline = time.monotonic() + 10
    while len(Writer.calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)


def test_the_sink_totals_every_write_and_names_its_thread(cluster):
    first = Event(event_id="e1", at="2026-11-01T00:00:00Z", stage="fetch", status="timeout")
    second = Event(event_id="e2", at="2026-11-01T00:00:00Z", stage="extract", status="too_short")
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(articles=[_rich(1, claims=3, entities=2), _rich(2, claims=1, entities=4)], events=[first]))
    _settle(sink, 1)
    sink.submit(Processed(articles=[_rich(3, claims=2, entities=0)], events=[second]))
    report = sink.close()
    assert [ids for ids, _ in cluster.calls] == [["a1", "a2"], ["a3"]]
    assert all(thread.startswith("newswatch-index") for _, thread in cluster.calls)
    assert (report.articles_indexed, report.claims, report.entities) == (3, 6, 6)
    assert report.written["a1"] == Written("Title 1", 3, 2) and report.written["a2"] == Written("Title 2", 1, 4)
    assert report.events == [first, second] and dict(report.failures) == {"fetch:timeout": 1, "extract:too_short": 1}


def test_the_sink_writes_batches_that_arrive_during_a_write_together(cluster):
    cluster.gate = threading.Event()
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(articles=[_rich(1, 0, 0)]))
    _settle(sink, 1)  # the first write is under way (held at the gate)
    sink.submit(Processed(articles=[_rich(2, 0, 0)]))
    sink.submit(Processed(articles=[_rich(3, 0, 0)]))
    cluster.gate.set()
    _settle(sink, 2)
    sink.submit(Processed(articles=[_rich(4, 0, 0)]))  # after the sink went idle: written too
    report = sink.close()
    assert [ids for ids, _ in cluster.calls] == [["a1"], ["a2", "a3"], ["a4"]]
    assert report.articles_indexed == 4


def test_events_only_batches_do_not_call_the_article_writer(cluster):
    event = Event(event_id="e1", at="2026-11-01T00:00:00Z", stage="fetch", status="timeout")
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(events=[event]))
    report = sink.close()
    assert cluster.calls == [] and cluster.events == [event] and report.events == [event]


def test_rejected_articles_become_index_events_and_unrecorded_events_are_logged(cluster, caplog):
    from pipeline.index.writer import BulkFailure

    cluster.rejected = {"a2"}
    cluster.event_failures = [BulkFailure("ev-x", "nw-events-v1", 400, "mapper_parsing_exception: bad")]
    sink = IndexSink(Writer(), "run-7")
    sink.submit(Processed(articles=[_rich(1, 1, 1), _rich(2, 5, 5)]))
    report = sink.close()
    (event,) = report.events
    assert (event.stage, event.status, event.run_id, event.url, event.article_id) == (
        "index", "index_error", "run-7", "http://x.test/2", "a2")
    assert report.outcomes["a2"].status == Status.INDEX_ERROR and report.outcomes["a1"].ok
    assert (report.articles_indexed, report.claims, report.entities) == (1, 1, 1) and "a2" not in report.written
    assert "event ev-x not recorded: mapper_parsing_exception: bad" in caplog.messages


def test_once_the_cluster_is_found_away_later_batches_are_kept_without_trying(cluster, caplog):
    event = Event(event_id="e1", at="2026-11-01T00:00:00Z", stage="fetch", status="timeout")
    cluster.down = True
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(articles=[_rich(1, 0, 0)], events=[event]))
    _settle(sink, 1)
    sink.submit(Processed(articles=[_rich(2, 0, 0)]))
    report = sink.close()
    assert [ids for ids, _ in cluster.calls] == [["a1"]]  # tried once
    assert [t.article.article_id for t in report.deferred.articles] == ["a1", "a2"]
    assert report.deferred.events == [event] and report.unavailable == "away"
    assert "Elasticsearch is away (away); keeping 1 article(s) and 1 event(s) for a retry" in caplog.messages


def test_a_bug_in_the_writer_is_raised_by_close(cluster, monkeypatch):
    def broken(self, batch):
        raise RuntimeError("writer bug")

    monkeypatch.setattr(Writer, "write", broken)
    sink = IndexSink(Writer(), "r")
    sink.submit(Processed(articles=[_rich(1, 0, 0)]))
    with pytest.raises(RuntimeError, match="writer bug"):
        sink.close()
