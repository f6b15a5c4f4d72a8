"""The flow through the process pool equals the same flow in this process, and survives a worker
being killed mid-chunk.

Real HTTP (the simulator on 127.0.0.1), real trafilatura and spaCy in real worker processes.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pipeline.config import load_settings
from pipeline.fetch.fetcher import entry_for_url
from pipeline.jobs import flow
from pipeline.jobs import pool as pools
from pipeline.outcomes import Outcome
from pipeline.records import Article, Processed
from simulator import Simulator

pytestmark = pytest.mark.integration

BODY = ("The minister said on Tuesday that the bridge would reopen in {n} weeks. \"We are confident the "
        "repairs are sound,\" said Maria Lopez, a spokeswoman for the ministry. Critics disagreed. "
        "The opposition leader, John Carter, claimed the work might take longer than promised. "
        "Engineers from Acme Corp. told reporters the steel had been replaced in Lisbon.\n\n") * 3


def _settings(processes: int):
    return load_settings({}, allow_private_addresses=True, allowed_private_networks="127.0.0.0/8",
                         per_host_delay=0.0, per_host_concurrency=4, ingest_processes=processes)


def _comparable(batches: list[Processed]) -> list[tuple]:
    done = sum(batches, Processed())
    out: list[tuple] = []
    for t in done.articles:
        out.append(("article", t.article.article_id, t.article.text,
                    [(c.text, c.speaker.name if c.speaker else None, c.certainty.level) for c in t.tags.claims],
                    sorted((e.name, e.type) for e in t.tags.entities)))
    out += [("event", e.stage, e.status, e.url) for e in done.events]
    return sorted(out, key=repr)


def _articles(n: int) -> list[Article]:
    return [Article(article_id=f"a{i}", url=f"http://x.test/{i}", canonical_url=f"http://x.test/{i}",
                    title=f"Bridge story {i}", outcome=Outcome.success(), text=BODY.format(n=i)) for i in range(n)]


def test_worker_processes_give_the_in_process_result():
    with Simulator(name="Workers Weekly") as sim:
        urls = [sim.add_article("news", f"Bridge story {n}", BODY.format(n=n), slug=f"bridge-{n}")
                for n in range(12)]
        urls.append(sim.url("/missing-page.html"))  # a fetch failure stays an event on both paths
        entries = [entry_for_url(u) for u in urls]
        here: list[Processed] = []
        there: list[Processed] = []
        local = flow.run(_settings(1), here.append, entries=entries, run_id="r")
        pooled = flow.run(_settings(2), there.append, entries=entries, run_id="r")

    assert (local.workers, pooled.workers, pooled.redone) == (0, 2, 0)
    assert _comparable(there) == _comparable(here)
    done = sum(here, Processed())
    assert len(done.articles) == 12 and len(done.events) == 1
    assert all(t.tags.claims for t in done.articles)


def test_retagging_in_worker_processes_gives_the_in_process_result():
    here: list[Processed] = []
    there: list[Processed] = []
    flow.run(_settings(1), here.append, ready=_articles(10))
    stats = flow.run(_settings(2), there.append, ready=_articles(10))
    assert stats.workers == 2 and stats.redone == 0
    assert _comparable(there) == _comparable(here)


def test_a_worker_killed_mid_chunk_costs_time_never_items():
    executor = pools.get_pool(2)
    executor.submit(os.getpid).result(timeout=120)  # the pool is up
    got: list[Processed] = []
    stats: list[flow.FlowStats] = []
    runner = threading.Thread(target=lambda: stats.append(flow.run(_settings(2), got.append, ready=_articles(40))))
    runner.start()
    victims: list[int] = []
    deadline = time.monotonic() + 60
    while not victims and time.monotonic() < deadline:  # kill a worker once batches are under way
        if got:
            victims = [p.pid for p in list(executor._processes.values())[:1]]
        time.sleep(0.02)
    assert victims, "no batch finished within a minute"
    os.kill(victims[0], signal.SIGKILL)
    runner.join(300)
    assert not runner.is_alive()
    ids = [t.article.article_id for b in got for t in b.articles]
    assert sorted(ids) == sorted(f"a{i}" for i in range(40))  # every article, exactly once
    assert stats[0].redone >= 1
    assert pools.get_pool(2) is not executor  # a fresh pool took over
