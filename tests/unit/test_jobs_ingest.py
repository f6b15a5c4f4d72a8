"""The ingest jobs' bookkeeping with the stages mocked: re-use on retry, batches kept until indexed,
one event per failed item, summaries. The real stages run in tests/dags (integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.index.errors import ClusterUnavailable
from pipeline.jobs import extract_tag, ingest
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, FeedEntry, FetchedPage, TaggedArticle
from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool
from pipeline.tagging.schema import Tagger, TagResult

SETTINGS = load_settings({})


def _entry(n: int) -> FeedEntry:
    return FeedEntry(feed_id="f", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}", article_id=f"a{n}")


def _tagged(n: int) -> TaggedArticle:
    article = Article(article_id=f"a{n}", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}",
                      outcome=Outcome.success(), text="Text.")
    return TaggedArticle(article=article, tags=TagResult(tagger=Tagger(version="t")))


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path)


def test_tag_entries_turns_each_failure_into_one_event(monkeypatch):
    import pipeline.extract.extractor as extractor
    import pipeline.fetch.fetcher as fetcher

    entries = [_entry(1), _entry(2), _entry(3)]

    def fake_fetch(es, settings):
        ok = Outcome.success()
        return [FetchedPage(entry=entries[0], final_url=entries[0].url, outcome=ok, body="<html>"),
                FetchedPage(entry=entries[1], final_url=entries[1].url,
                            outcome=Outcome.failure(Status.HTTP_ERROR, "404 Not Found", 404)),
                FetchedPage(entry=entries[2], final_url=entries[2].url, outcome=ok, body="<html>")]

    def fake_extract(page):
        if page.entry.article_id == "a3":
            raise RuntimeError("boom")
        return Article(article_id="a1", url=page.entry.url, canonical_url=page.entry.url, outcome=Outcome.success(),
                       text="Some text.")

    monkeypatch.setattr(fetcher, "fetch_pages", fake_fetch)
    monkeypatch.setattr(extractor, "extract_article", fake_extract)
    monkeypatch.setattr(extract_tag, "tag_articles", lambda articles: [_tagged(1)] if articles else [])

    lines = ingest.tag_entries(entries, SETTINGS, run_id="r").lines
    kinds = [(x["kind"], x["data"].get("status")) for x in lines]
    assert kinds == [("article", None), ("event", "http_error"), ("event", "parse_error")]
    events = [x["data"] for x in lines if x["kind"] == "event"]
    assert events[0]["http_status"] == 404 and events[0]["stage"] == "fetch"
    assert "boom" in events[1]["reason"] and events[1]["stage"] == "extract"


def test_process_chunk_reuses_a_spooled_batch_and_deletes_entries(spool, monkeypatch):
    calls = []
    monkeypatch.setattr(ingest, "tag_entries", lambda entries, settings, run_id: calls.append(run_id) or extract_tag.Processed([
        {"kind": "article", "data": _tagged(1).model_dump(mode="json")}]))
    spool.write(ENTRIES, "run1.s0-c0", [_entry(1)])

    first = ingest.process_chunk({"chunk_id": "run1.s0-c0"}, spool, SETTINGS)
    assert calls == ["run1"] and first["articles"] == 1 and not first["reused"]
    assert spool.keys(ENTRIES) == [] and spool.keys(TAGGED) == ["run1.s0-c0"]

    again = ingest.process_chunk({"chunk_id": "run1.s0-c0"}, spool, SETTINGS)  # a retry
    assert calls == ["run1"] and again["reused"] and again["articles"] == 1


def test_process_chunk_of_a_finished_chunk_is_a_no_op(spool):
    assert ingest.process_chunk({"chunk_id": "gone"}, spool, SETTINGS)["missing"] is True


class FakeWriter:
    fail_with: Exception | None = None
    written: list[str] = []
    events: list[str] = []

    def __init__(self, es, settings=None):
        pass

    def write(self, batch):
        if FakeWriter.fail_with is not None:
            raise FakeWriter.fail_with
        FakeWriter.written += [t.article.article_id for t in batch]

        class Report:
            failed: list = []
        return Report()

    def record_events(self, events):
        FakeWriter.events += [e.event_id for e in events]

        class Report:
            failures: list = []
        return Report()


def test_index_chunk_keeps_the_batch_while_the_cluster_is_down(spool, monkeypatch):
    import pipeline.index.writer as writer

    monkeypatch.setattr(writer, "IndexWriter", FakeWriter)
    monkeypatch.setattr(ingest, "es_client", lambda settings: object())
    FakeWriter.written, FakeWriter.events = [], []
    event = ingest.outcome_event("fetch", Outcome.failure(Status.HTTP_ERROR, "404"), run_id="r", url="http://x.test/9")
    spool.write(TAGGED, "r.s0-c0", [{"kind": "article", "data": _tagged(1).model_dump(mode="json")},
                                    {"kind": "event", "data": event.model_dump(mode="json")}])

    FakeWriter.fail_with = ClusterUnavailable("connection refused")
    with pytest.raises(ClusterUnavailable):
        ingest.index_chunk({"chunk_id": "r.s0-c0"}, spool, SETTINGS)
    assert spool.keys(TAGGED) == ["r.s0-c0"]  # nothing lost

    FakeWriter.fail_with = None
    done = ingest.index_chunk({"chunk_id": "r.s0-c0"}, spool, SETTINGS)
    assert done["articles_indexed"] == 1 and done["failures"] == {"fetch:http_error": 1}
    assert FakeWriter.written == ["a1"] and FakeWriter.events == [event.event_id]
    assert spool.keys(TAGGED) == []
    assert ingest.index_chunk({"chunk_id": "r.s0-c0"}, spool, SETTINGS)["missing"] is True


def test_poll_shard_retry_does_not_poll_again(spool):
    manifest = {"run_key": "r", "shard": 0, "feeds_polled": 2, "feeds_not_modified": 1, "new_entries": 1,
                "skipped_existing": 0, "chunk_ids": ["r.s0-c0"], "failures": {}}
    spool.write_json(RUNS, "r.poll-0", manifest)
    # no feeds file, no cluster: a second poll would fail; the spooled manifest answers instead
    assert ingest.poll_shard({"run_key": "r", "shard": 0, "feed_ids": ["f"]}, spool, SETTINGS) == manifest


def test_plan_picks_up_batches_left_by_earlier_runs(spool):
    spool.write(ENTRIES, "old.s0-c3", [_entry(1)])
    spool.write(TAGGED, "older.s1-c0", [])
    polls = [{"chunk_ids": ["new.s0-c0"]}]
    assert [c["chunk_id"] for c in ingest.plan_chunks(polls, spool)] == ["new.s0-c0", "old.s0-c3", "older.s1-c0"]


def test_summary_totals_and_last_line(spool):
    polls = [{"run_key": "r", "shard": 0, "feeds_polled": 3, "feeds_not_modified": 1, "new_entries": 4,
              "skipped_existing": 2, "chunk_ids": [], "failures": {"feeds:http_error": 1}}]
    indexed = [{"chunk_id": "c", "articles_indexed": 3, "claims": 10, "entities": 7,
                "failures": {"fetch:refused": 1}, "missing": False}]
    spool.write_json(RUNS, "r.poll-0", polls[0])
    summary = ingest.summarize("r", polls, indexed, spool)
    assert summary["failures_by_reason"] == {"feeds:http_error": 1, "fetch:refused": 1}
    assert spool.read_json(RUNS, "r")["articles_indexed"] == 3
    assert spool.keys(RUNS) == ["r"]  # the per-shard poll manifests are cleaned up
    assert ingest.summary_line(summary) == "summary: articles_indexed=3 claims=10 entities=7 failures=2"


def test_a_batch_a_worker_failed_is_redone_in_process(monkeypatch):
    import pipeline.fetch.fetcher as fetcher
    from pipeline.jobs.workers import BatchResult

    entries = [_entry(n) for n in range(10)]
    pages = [FetchedPage(entry=e, final_url=e.url, outcome=Outcome.success(), body="<html>") for e in entries]
    monkeypatch.setattr(fetcher, "fetch_pages", lambda es, settings: pages)

    def done_here(payload):
        return [{"kind": "article", "data": {"id": p.entry.article_id if isinstance(p, FetchedPage)
                                              else p["entry"]["article_id"], "where": "here"}}
                for p in payload["pages"]]

    class Pool:
        def ensure(self, size):
            self.size = size

        def map(self, func, batches, workers, timeout):
            assert func == extract_tag.PROCESS_PAGES and workers == 2
            return [BatchResult(error="worker process ended (end of stream; exit code -9)") if i == 1 else
                    BatchResult(value=[{"kind": "article", "data": {"id": p["entry"]["article_id"], "where": "worker"}}
                                       for p in b["pages"]])
                    for i, b in enumerate(batches)]

    monkeypatch.setattr(extract_tag, "process_pages", done_here)
    monkeypatch.setattr("pipeline.jobs.workers.shared_pool", lambda warm: Pool())
    done = ingest.tag_entries(entries, load_settings({}, ingest_processes=2), run_id="r")
    assert [x["data"]["id"] for x in done.lines] == [f"a{n}" for n in range(10)]  # all, once, in order
    assert [x["data"]["where"] for x in done.lines].count("here") == 2  # batch 1 (2 pages) redone here
    assert (done.workers, done.redone) == (2, 1)


def test_auto_starts_workers_only_for_a_chunk_that_pays_for_them(monkeypatch):
    import pipeline.jobs.workers as workers

    monkeypatch.setattr(workers, "available_cores", lambda: 2)
    monkeypatch.setattr(workers, "live_workers", lambda warm: 0)
    auto = load_settings({}, ingest_processes=0)
    assert extract_tag.plan_chunk_workers(25, auto) == 1  # the default chunk: cheaper in this process
    assert extract_tag.plan_chunk_workers(60, auto) == 2
    monkeypatch.setattr(workers, "live_workers", lambda warm: 2)  # already running: small chunks too
    assert extract_tag.plan_chunk_workers(12, auto) == 2
    assert extract_tag.plan_chunk_workers(5, auto) == 1
    assert extract_tag.plan_chunk_workers(12, load_settings({}, ingest_processes=2)) == 2  # explicit
    assert extract_tag.plan_chunk_workers(500, load_settings({}, ingest_processes=1)) == 1
