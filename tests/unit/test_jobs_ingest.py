"""The ingest jobs' bookkeeping with the stages mocked: re-use on retry, batches kept until indexed,
one event per failed item, summaries, a failed worker batch redone. The real stages run in
tests/integration/test_flow_pool.py and tests/dags (integration)."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.feeds.poller import PollResult
from pipeline.index.errors import ClusterUnavailable
from pipeline.jobs import flow, ingest, steps
from pipeline.jobs import pool as pools
from pipeline.jobs.sink import IndexSink
from pipeline.outcomes import Outcome, Status
from pipeline.records import Article, Event, FeedEntry, FetchedPage, Processed, TaggedArticle
from pipeline.spool import ENTRIES, RUNS, TAGGED, Spool
from pipeline.tagging.schema import Tagger, TagResult

SETTINGS = load_settings({})
HERE = load_settings({}, ingest_processes=1)


def _entry(n: int) -> FeedEntry:
    return FeedEntry(feed_id="f", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}", article_id=f"a{n}")


def _article(n: int) -> Article:
    return Article(article_id=f"a{n}", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}",
                   outcome=Outcome.success(), text="Text.")


def _tagged(n: int, where: str = "") -> TaggedArticle:
    article = _article(n).model_copy(update={"title": where or None})
    return TaggedArticle(article=article, tags=TagResult(tagger=Tagger(version="t")))


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path)


def _fake_fetch(monkeypatch: pytest.MonkeyPatch, pages: list[FetchedPage]) -> None:
    async def fetched(settings, entries):
        for page in pages:
            yield page

    monkeypatch.setattr(flow, "_fetched", fetched)


def test_flow_turns_each_failure_into_one_event(monkeypatch):
    import pipeline.extract.extractor as extractor

    entries = [_entry(1), _entry(2), _entry(3)]
    ok = Outcome.success()
    _fake_fetch(monkeypatch, [
        FetchedPage(entry=entries[0], final_url=entries[0].url, outcome=ok, body="<html>"),
        FetchedPage(entry=entries[1], final_url=entries[1].url, outcome=Outcome.failure(Status.HTTP_ERROR, "404", 404)),
        FetchedPage(entry=entries[2], final_url=entries[2].url, outcome=ok, body="<html>")])

    def fake_extract(page):
        if page.entry.article_id == "a3":
            raise RuntimeError("boom")
        return _article(1)

    monkeypatch.setattr(extractor, "extract_article", fake_extract)
    monkeypatch.setattr(steps, "tag", lambda articles: [_tagged(1) for _ in articles])
    got: list[Processed] = []
    stats = flow.run(HERE, got.append, entries=entries, run_id="r")
    done = sum(got, Processed())
    assert [t.article.article_id for t in done.articles] == ["a1"]
    assert sorted((e.stage, e.status) for e in done.events) == [("extract", "parse_error"), ("fetch", "http_error")]
    fetch_event = next(e for e in done.events if e.stage == "fetch")
    assert fetch_event.http_status == 404 and fetch_event.article_id == "a2" and fetch_event.run_id == "r"
    assert "boom" in next(e for e in done.events if e.stage == "extract").reason
    assert (stats.items, stats.workers, stats.redone) == (3, 0, 0)


class FakePool:
    """Fails the first `fail` submissions of batches that hold a2 (as a dying worker would)."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.submitted: list[list[str]] = []

    def submit(self, func, batch, run_id) -> Future:
        ids = [a.article_id for a in batch]
        self.submitted.append(ids)
        future: Future = Future()
        if "a2" in ids and self.fail > 0:
            self.fail -= 1
            future.set_exception(pools.BrokenProcessPool("a worker died"))
        else:
            future.set_result(Processed(articles=[_tagged(int(i[1:]), "pool") for i in ids]))
        return future


@pytest.mark.parametrize("fail, where", [(1, "pool"), (2, "here")])
def test_a_batch_a_worker_failed_is_redone_in_a_fresh_pool_then_here(monkeypatch, fail, where):
    fake = FakePool(fail)
    monkeypatch.setattr(pools, "get_pool", lambda size: fake)
    monkeypatch.setattr(steps, "tag", lambda articles: [_tagged(int(a.article_id[1:]), "here") for a in articles])
    got: list[Processed] = []
    stats = flow.run(load_settings({}, ingest_processes=2), got.append, ready=[_article(n) for n in range(8)])
    done = {t.article.article_id: t.article.title for b in got for t in b.articles}
    assert sorted(done) == sorted(f"a{n}" for n in range(8))  # every item ...
    assert sum(len(b.articles) for b in got) == 8  # ... once
    assert done["a2"] == where and all(v == "pool" for k, v in done.items() if k != "a2")
    assert stats.redone == 1 and stats.workers == 2 and stats.batches == 8
    assert sum("a2" in b for b in fake.submitted) == 2  # the first pool, then the fresh one


def test_flow_batches_spread_over_workers():
    assert flow.batch_size(240, 2) == 4
    assert flow.batch_size(24, 2) == 2
    assert flow.batch_size(3, 2) == 1
    assert flow.batch_size(1000, 1) == 4


class FakeWriter:
    down = False
    rejected: set[str] = set()
    written: list[str] = []
    events: list[str] = []
    tries = 0

    def __init__(self, es=None, settings=None):
        pass

    def write(self, batch):
        FakeWriter.tries += 1
        if FakeWriter.down:
            raise ClusterUnavailable("connection refused")
        FakeWriter.written += [t.article.article_id for t in batch if t.article.article_id not in self.rejected]

        class Item:
            def __init__(self, aid):
                self.article_id = aid
                self.outcome = Outcome.failure(Status.INDEX_ERROR, "mapper_parsing_exception")

        class Report:
            failed = [Item(t.article.article_id) for t in batch if t.article.article_id in FakeWriter.rejected]
        return Report()

    def record_events(self, events):
        if FakeWriter.down:
            raise ClusterUnavailable("connection refused")
        FakeWriter.events += [f"{e.stage}:{e.status}" for e in events]

        class Report:
            failures: list = []
        return Report()


@pytest.fixture
def writer(monkeypatch):
    FakeWriter.down, FakeWriter.rejected, FakeWriter.written, FakeWriter.events, FakeWriter.tries = (
        False, set(), [], [], 0)
    monkeypatch.setattr(ingest, "IndexWriter", FakeWriter)
    monkeypatch.setattr(ingest, "es_client", lambda settings: object())
    monkeypatch.setattr("pipeline.index.writer.existing_article_ids", lambda es, ids, settings: set())
    return FakeWriter


def test_sink_turns_rejections_into_events_and_keeps_everything_while_the_cluster_is_away(writer):
    event = ingest.outcome_event("fetch", Outcome.failure(Status.HTTP_ERROR, "404"), run_id="r", url="http://x/9")
    writer.rejected = {"a2"}
    sink = IndexSink(FakeWriter(), "r")
    sink.submit(Processed(articles=[_tagged(1), _tagged(2)], events=[event]))
    report = sink.close()
    assert writer.written == ["a1"] and report.articles_indexed == 1
    assert report.outcomes["a2"].status == Status.INDEX_ERROR
    assert sorted(writer.events) == ["fetch:http_error", "index:index_error"]
    assert dict(report.failures) == {"fetch:http_error": 1, "index:index_error": 1}

    writer.down, writer.tries = True, 0
    sink = IndexSink(FakeWriter(), "r")
    sink.submit(Processed(articles=[_tagged(3)]))
    sink.submit(Processed(articles=[_tagged(4)], events=[event]))
    report = sink.close()
    assert writer.tries == 1  # found away once: later batches are kept without trying
    assert [t.article.article_id for t in report.deferred.articles] == ["a3", "a4"]
    assert report.deferred.events == [event] and report.unavailable and report.articles_indexed == 0


def _fake_flow(monkeypatch, calls: list[list[str]]) -> None:
    def run(settings, sink, *, entries=(), ready=(), run_id=None):
        calls.append([e.article_id for e in entries])
        sink(Processed(articles=[_tagged(int(e.article_id[1:])) for e in entries]))
        return flow.FlowStats(items=len(entries), workers=2)

    monkeypatch.setattr(flow, "run", run)


def test_process_chunk_indexes_and_drops_the_entries(spool, monkeypatch, writer):
    calls: list[list[str]] = []
    _fake_flow(monkeypatch, calls)
    spool.write(ENTRIES, "run1.c0", [_entry(1), _entry(2)])
    done = ingest.process_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)
    assert calls == [["a1", "a2"]] and writer.written == ["a1", "a2"]
    assert done["articles_indexed"] == 2 and done["deferred"] == 0 and done["workers"] == 2
    assert spool.keys(ENTRIES) == [] and spool.keys(TAGGED) == []
    assert ingest.process_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)["missing"] is True  # a finished chunk


def test_process_chunk_skips_what_a_previous_try_indexed(spool, monkeypatch, writer):
    calls: list[list[str]] = []
    _fake_flow(monkeypatch, calls)
    monkeypatch.setattr("pipeline.index.writer.existing_article_ids", lambda es, ids, settings: {"a1"})
    spool.write(ENTRIES, "run1.c0", [_entry(1), _entry(2)])
    done = ingest.process_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)
    assert calls == [["a2"]] and done["skipped_existing"] == 1 and done["entries"] == 2


def test_while_the_cluster_is_away_the_tagged_batch_waits_for_the_index_task(spool, monkeypatch, writer):
    calls: list[list[str]] = []
    _fake_flow(monkeypatch, calls)
    spool.write(ENTRIES, "run1.c0", [_entry(1), _entry(2)])
    writer.down = True
    done = ingest.process_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)
    assert done["deferred"] == 2 and done["articles_indexed"] == 0
    assert spool.keys(ENTRIES) == [] and spool.keys(TAGGED) == ["run1.c0"]  # nothing lost

    again = ingest.process_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)  # a retry: no fetching again
    assert calls == [["a1", "a2"]] and again["deferred"] == 2

    with pytest.raises(ClusterUnavailable):
        ingest.index_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)
    assert spool.keys(TAGGED) == ["run1.c0"]

    writer.down = False
    indexed = ingest.index_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)
    assert indexed["articles_indexed"] == 2 and writer.written == ["a1", "a2"]
    assert spool.keys(TAGGED) == []
    assert ingest.index_chunk({"chunk_id": "run1.c0"}, spool, SETTINGS)["missing"] is True


def test_poll_shard_retry_does_not_poll_again(spool):
    manifest = {"run_key": "r", "shard": 0, "feeds_polled": 2, "feeds_not_modified": 1, "new_entries": 1,
                "skipped_existing": 0, "failures": {}}
    spool.write_json(RUNS, "r.poll-0", manifest)
    # no cluster: a second poll would fail; the spooled manifest answers instead
    feed = {"id": "f", "name": "F", "url": "http://x.test/rss"}
    assert ingest.poll_shard({"run_key": "r", "shard": 0, "feeds": [feed]}, spool, SETTINGS) == manifest


class Cluster:
    """Stands in for the index: up or away, and every event it was given."""

    def __init__(self) -> None:
        self.up = True
        self.events: list[Event] = []

    def existing(self, es, ids, settings) -> set[str]:
        if not self.up:
            raise ClusterUnavailable("connection refused")
        return {"a1"} & set(ids)

    def writer(self, es=None, settings=None):
        cluster = self

        class Writer:
            def record_events(self, events):
                if not cluster.up:
                    raise ClusterUnavailable("connection refused")
                cluster.events += events
        return Writer()


def _poll_once(monkeypatch, cluster: Cluster) -> list[int]:
    """poll_feeds answers once (polling saves the feeds' state: a second poll would find nothing new)."""
    polls: list[int] = []
    results = [
        PollResult(feed_id="a", url="u", outcome=Outcome.success(), new_entries=[_entry(1), _entry(2)]),
        PollResult(feed_id="b", url="u", outcome=Outcome.failure(Status.HTTP_ERROR, "HTTP 500", 500)),
        PollResult(feed_id="c", url="u", outcome=Outcome.failure(Status.TIMEOUT, "read timeout")),
    ]

    def poll_feeds(feeds, store, settings):
        polls.append(len(feeds))
        return results if len(polls) == 1 else [PollResult(feed_id=f.id, url="u", outcome=Outcome.success())
                                                 for f in feeds]

    monkeypatch.setattr("pipeline.feeds.poller.poll_feeds", poll_feeds)
    monkeypatch.setattr("pipeline.index.writer.existing_article_ids", cluster.existing)
    monkeypatch.setattr(ingest, "IndexWriter", cluster.writer)
    monkeypatch.setattr(ingest, "es_client", lambda settings: object())
    monkeypatch.setattr(ingest, "state_store", lambda es, settings: object())
    return polls


SHARD = {"run_key": "r", "shard": 0, "feeds": [{"id": f, "name": f, "url": f"http://x.test/{f}"} for f in "abc"]}


def test_feed_failures_survive_the_cluster_going_away_before_they_are_recorded(spool, monkeypatch):
    cluster = Cluster()
    polls = _poll_once(monkeypatch, cluster)
    real_existing = cluster.existing

    def existing_then_away(es, ids, settings):
        found = real_existing(es, ids, settings)
        cluster.up = False  # gone between the index check and the events
        return found

    monkeypatch.setattr("pipeline.index.writer.existing_article_ids", existing_then_away)
    with pytest.raises(ClusterUnavailable):
        ingest.poll_shard(SHARD, spool, SETTINGS)
    assert cluster.events == [] and [r["article_id"] for r in spool.read(ENTRIES, "r.s0")] == ["a2"]

    with pytest.raises(ClusterUnavailable):  # a retry while it is still away
        ingest.poll_shard(SHARD, spool, SETTINGS)
    cluster.up = True
    polled = ingest.poll_shard(SHARD, spool, SETTINGS)  # the retry that gets through
    assert polls == [3]  # polled once: the retries found what the first try spooled
    assert polled == {"run_key": "r", "shard": 0, "feeds_polled": 3, "feeds_not_modified": 0, "new_entries": 1,
                      "skipped_existing": 1, "failures": {"feeds:http_error": 1, "feeds:timeout": 1}}
    assert [(e.feed_id, e.status, e.reason, e.run_id) for e in cluster.events] == [
        ("b", "http_error", "HTTP 500", "r"), ("c", "timeout", "read timeout", "r")]
    assert spool.read_json(RUNS, "r.poll-0") == polled  # nothing is left pending

    recorded = list(cluster.events)
    assert ingest.poll_shard(SHARD, spool, SETTINGS) == polled  # once recorded, never again
    assert cluster.events == recorded and polls == [3]


def test_poll_shard_spools_every_new_entry_when_the_index_cannot_say_which_it_has(spool, monkeypatch, caplog):
    cluster = Cluster()
    polls = _poll_once(monkeypatch, cluster)
    cluster.up = False
    with pytest.raises(ClusterUnavailable):  # the events wait for the cluster; the entries do not
        ingest.poll_shard(SHARD, spool, SETTINGS)
    assert [r["article_id"] for r in spool.read(ENTRIES, "r.s0")] == ["a1", "a2"]  # process_chunk skips a1
    assert "spooling every new entry" in caplog.text
    cluster.up = True
    polled = ingest.poll_shard(SHARD, spool, SETTINGS)
    assert (polled["new_entries"], polled["skipped_existing"], polls) == (2, 0, [3])
    assert [e.feed_id for e in cluster.events] == ["b", "c"]


def test_plan_regroups_every_spooled_entry_evenly_and_keeps_waiting_batches(spool):
    spool.write(ENTRIES, "new.s0", [_entry(n) for n in range(5)])
    spool.write(ENTRIES, "new.s1", [_entry(n) for n in range(5, 9)] + [_entry(0)])  # a0 twice: once
    spool.write(ENTRIES, "old.c3", [_entry(9)])  # left by an earlier run
    spool.write(TAGGED, "older.c1", [Processed()])
    settings = load_settings({}, ingest_chunk_size=4)
    chunks = [c["chunk_id"] for c in ingest.plan_chunks("new", spool, settings)]
    assert chunks == ["new.c0", "new.c1", "new.c2", "older.c1"]
    sizes = [len(spool.read(ENTRIES, c)) for c in chunks[:3]]
    assert sizes == [4, 4, 2]
    ids = sorted(r["article_id"] for c in chunks[:3] for r in spool.read(ENTRIES, c))
    assert ids == sorted(f"a{n}" for n in range(10))
    assert spool.keys(ENTRIES) == ["new.c0", "new.c1", "new.c2"]
    again = [c["chunk_id"] for c in ingest.plan_chunks("new", spool, settings)]  # a retry of plan
    assert again == chunks and sorted(r["article_id"] for c in chunks[:3] for r in spool.read(ENTRIES, c)) == ids


def test_summary_totals_and_last_line(spool):
    polls = [{"run_key": "r", "shard": 0, "feeds_polled": 3, "feeds_not_modified": 1, "new_entries": 4,
              "skipped_existing": 2, "failures": {"feeds:http_error": 1}}]
    processed = [{"chunk_id": "r.c0", "articles_indexed": 2, "claims": 6, "entities": 4,
                  "failures": {"fetch:refused": 1}, "deferred": 1, "skipped_existing": 1}]
    indexed = [{"chunk_id": "r.c0", "articles_indexed": 1, "claims": 4, "entities": 3, "failures": {},
                "missing": False}]
    spool.write_json(RUNS, "r.poll-0", polls[0])
    summary = ingest.summarize("r", polls, processed, indexed, spool)
    assert summary["failures_by_reason"] == {"feeds:http_error": 1, "fetch:refused": 1}
    assert summary["skipped_existing"] == 3
    assert spool.read_json(RUNS, "r")["articles_indexed"] == 3
    assert spool.keys(RUNS) == ["r"]  # the per-shard poll manifests are cleaned up
    assert ingest.summary_line(summary) == "summary: articles_indexed=3 claims=10 entities=7 failures=2"
