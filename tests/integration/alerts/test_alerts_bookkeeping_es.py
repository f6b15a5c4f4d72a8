"""Exactly-once bookkeeping and evaluation against the real node and a real webhook receiver:
crashes at every step between send and record, overlapping runs, the look-back window, digests,
pausing (permanent failures and failing too long), resume, and _msearch = the naive loop."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alerts_servers import WebhookReceiver

from pipeline.alerts.evaluate import Window, evaluate, evaluate_naive
from pipeline.alerts.ledger import Ledger
from pipeline.alerts.model import Target, Watch, WatchSearch
from pipeline.alerts.run import add_watch, deliver_watches, evaluate_watches, stores
from pipeline.config import load_settings
from pipeline.index.names import IndexNames
from pipeline.index.setup import drop_prefix, ensure_indices
from pipeline.index.synthetic import POOL, ClaimSpec, tagged_article
from pipeline.index.writer import IndexWriter

pytestmark = pytest.mark.integration

NK, PUTIN = POOL[0], next(e for e in POOL if e.name == "Vladimir Putin")


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.stop()


@pytest.fixture
def env(es_url, es_client, receiver):
    prefix = f"nwal-{uuid.uuid4().hex[:8]}"
    settings = load_settings(es_url=es_url, index_prefix=prefix, alert_webhooks=f"ops={receiver.url}",
                             alert_retry_initial_seconds=0.05, alert_send_attempts=2, alert_timeout=3)
    ensure_indices(es_client, settings)
    yield settings
    drop_prefix(es_client, prefix)


def _write(es, settings, n: int, start: int = 0, text: str = "shells fell near the border") -> list[str]:
    """n articles, each with one claim by Putin about North Korea; returns the claim ids."""
    batch = []
    for i in range(start, start + n):
        body = f"Report {i}. \"The {text} on day {i}\", Vladimir Putin said."
        batch.append(tagged_article(f"https://wire.example/{i}", body, title=f"Story {i}", site="wire.example",
                                    entities=[NK, PUTIN], published_at=datetime(2026, 3, 1, tzinfo=UTC)
                                    + timedelta(minutes=i),
                                    claims=[ClaimSpec(f"The {text} on day {i}", speaker=PUTIN, certainty="low",
                                                      about=(NK.id,))]))
    report = IndexWriter(es, settings).write(batch)
    assert report.ok
    return [f"{t.article.article_id}:{t.tags.claims[0].id}" for t in batch]


def _watch(settings, es, name: str = "nk", *, mode: str = "immediate", hours: int = 24, age: float = 1.0,
           **search) -> Watch:
    search = search or {"text": "shells", "claims": True}
    w = Watch.new(name, WatchSearch(**search), Target.parse("webhook:ops"), mode=mode, digest_hours=hours,
                  now=datetime.now(UTC) - timedelta(hours=age))
    return add_watch(settings, w, es=es)


def _run(settings, es, **kw):
    manifest = evaluate_watches(settings, es=es, setup=False, **kw)
    ids = [w for batch in manifest["deliver"] for w in batch]
    return manifest, deliver_watches(settings, ids, es=es, **kw)


def _ids(receiver) -> list[set[str]]:
    return [{i["id"] for i in b["items"]} for b in receiver.bodies()]


def test_each_match_once_then_nothing(env, es_client, receiver):
    _watch(env, es_client)
    claims = _write(es_client, env, 3)
    manifest, out = _run(env, es_client)
    assert manifest["new_matches"] == 3 and out["delivered"] == 1
    assert _ids(receiver) == [set(claims)]
    more = _write(es_client, env, 2, start=3)
    _run(env, es_client)
    _run(env, es_client)  # the look-back re-reads the earlier window: recognised, not re-sent
    assert _ids(receiver) == [set(claims), set(more)]
    assert len(set(receiver.keys())) == 2


@pytest.mark.parametrize("crash_at", ["after_send", "marking_matches", "before_send"])
def test_a_crash_at_any_step_neither_drops_nor_duplicates_unrecognisably(env, es_client, receiver, monkeypatch,
                                                                         crash_at):
    _watch(env, es_client)
    claims = set(_write(es_client, env, 3))
    real_put, real_mark = Ledger.put_delivery, Ledger.mark_delivered
    crashed: list[bool] = []

    def put(self, delivery):
        if not crashed and (crash_at == "after_send" and delivery.state == "delivered"
                            or crash_at == "before_send" and delivery.state == "sending"):
            crashed.append(True)
            raise RuntimeError("crash")
        return real_put(self, delivery)

    def mark(self, *args, **kwargs):
        if not crashed and crash_at == "marking_matches":
            crashed.append(True)
            raise RuntimeError("crash")
        return real_mark(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "put_delivery", put)
    monkeypatch.setattr(Ledger, "mark_delivered", mark)
    with pytest.raises(RuntimeError, match="crash"):
        _run(env, es_client)
    _run(env, es_client)  # the next run (the lease was released by the crashed one's finally)
    _run(env, es_client)
    keys = receiver.keys()
    if crash_at == "after_send":  # sent, not recorded: sent again with the same key, which the receiver sees
        assert len(keys) == 2 and len(set(keys)) == 1
        assert receiver.received[0]["raw"] == receiver.received[1]["raw"]  # the very same message
    else:
        assert len(keys) == 1
    assert [set(b["items"][i]["id"] for i in range(len(b["items"]))) for b in receiver.unique().values()] == [claims]
    _, ledger = stores(es_client, env)
    assert ledger.pending_counts() == {}
    (delivery,) = ledger.deliveries_of("nk")
    assert delivery.state == "delivered" and delivery.delivery_id == keys[0]


def test_overlapping_runs_send_each_message_once(env, es_client, receiver):
    for n in range(3):
        _watch(env, es_client, f"nk{n}")
    _write(es_client, env, 4)
    receiver.on_receive = lambda req: time.sleep(0.3)  # slow receiver: the runs overlap
    evaluate_watches(env, es=es_client, setup=False)
    names = ["nk0", "nk1", "nk2"]
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(deliver_watches(env, names, es=es_client)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = receiver.keys()
    assert len(keys) == 3 and len(set(keys)) == 3, keys
    assert sum(r["delivered"] for r in results) == 3
    _, ledger = stores(es_client, env)
    assert ledger.pending_counts() == {}


def test_digest_waits_for_its_hour(env, es_client, receiver):
    w = _watch(env, es_client, "digest", mode="digest", hours=6, age=5.9)  # due in 6 minutes
    _write(es_client, env, 2)
    manifest, out = _run(env, es_client)
    assert manifest["new_matches"] == 2 and manifest["deliver"] == [] and receiver.keys() == []
    _write(es_client, env, 1, start=2)
    due = w.created_at + timedelta(hours=6, minutes=1)
    manifest, out = _run(env, es_client, now=due)
    assert out["delivered"] == 1 and len(_ids(receiver)[0]) == 3  # one digest with everything
    _write(es_client, env, 1, start=3)
    manifest, _ = _run(env, es_client, now=due + timedelta(hours=2))
    assert manifest["new_matches"] == 1 and manifest["deliver"] == [] and len(receiver.keys()) == 1


def test_failing_target_is_retried_then_paused_and_nothing_is_dropped(env, es_client, receiver):
    _watch(env, es_client)
    claims = set(_write(es_client, env, 2))
    receiver.kill()
    t0 = datetime.now(UTC)
    _, out = _run(env, es_client, now=t0)
    assert "nk" in out["failed"] and not out["paused"]
    store, ledger = stores(es_client, env)
    state = store.get("nk").state
    assert state.consecutive_failures == 1 and state.failing_since is not None and "unreachable" in state.last_error
    more = set(_write(es_client, env, 1, start=2))
    _, out = _run(env, es_client, now=t0 + timedelta(hours=env.alert_pause_after_hours + 1))
    watch = store.get("nk")
    assert watch.paused and "failing since" in watch.paused_reason and out["paused"]
    es_client.indices.refresh(index=IndexNames(env.index_prefix).events)
    events = es_client.search(index=IndexNames(env.index_prefix).events, query={"term": {"stage": "alerts"}})
    assert {h["_source"]["status"] for h in events["hits"]["hits"]} >= {"delivery_failed", "watch_paused"}
    receiver.start()
    store.resume("nk")
    _run(env, es_client)
    # the message that failed goes out with its key, then the match recorded while it was failing
    assert [s for s in _ids(receiver)] == [claims, more]


def test_paused_watches_are_not_evaluated_and_resume_catches_up_or_skips(env, es_client, receiver):
    _watch(env, es_client, "a")
    _watch(env, es_client, "b")
    store, _ = stores(es_client, env)
    store.pause("a", "holiday")
    store.pause("b", "holiday")
    claims = set(_write(es_client, env, 2))
    manifest, _ = _run(env, es_client)
    assert manifest["watches"] == 0 and receiver.keys() == []
    store.resume("a")
    store.resume("b", from_now=True)
    _run(env, es_client)
    assert [b["watch"] for b in receiver.bodies()] == ["a"] and _ids(receiver) == [claims]


def test_msearch_and_the_naive_loop_find_the_same_matches_across_pages(env, es_client):
    _write(es_client, env, 12)
    _write(es_client, env, 3, start=100, text="grain prices rose")
    names = IndexNames(env.index_prefix)
    es_client.indices.refresh(index=f"{names.claims},{names.articles}")
    now = datetime.now(UTC)
    watches = [Watch.new(f"w{i}", s, Target.parse("webhook:ops"), now=now) for i, s in enumerate([
        WatchSearch(text="shells", claims=True), WatchSearch(text="grain", claims=True),
        WatchSearch(entities=["DPRK"]), WatchSearch(speakers=["Putin"], certainty="low"),
        WatchSearch(text="prices AND NOT shells"), WatchSearch(text="nothing-matches-this", claims=True)])]
    window = Window(since=now - timedelta(hours=1), until=now)
    batched = evaluate(es_client, watches, lambda w: window, names, False, batch=4, page=5)
    naive = evaluate_naive(es_client, watches, lambda w: window, names, False, page=5)
    assert batched.errors == {} and batched.requests < naive.requests
    counts = {w: len(items) for w, items in batched.matches.items()}
    assert counts == {"w0": 12, "w1": 3, "w2": 15, "w3": 15, "w4": 3, "w5": 0}
    assert batched.matches == naive.matches
    empty = evaluate(es_client, watches, lambda w: Window(since=now - timedelta(days=9), until=now - timedelta(days=8)),
                     names, False)
    assert empty.total == 0
