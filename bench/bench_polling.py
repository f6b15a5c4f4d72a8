"""Polling cycle time: newswatch's poller versus naive sequential `feedparser.parse(url)`.

1,000 synthetic feeds (30 items each, with summaries, authors and categories; ~15 KB) on the news-site simulator (127.0.0.1, its own process). After a first cycle
has stored validators, 10% of the feeds get a new item; then one timed cycle of the poller (90% of
the feeds answer 304; the median of --rounds cycles, each with fresh changes) and, in the same run, the baseline: `feedparser.parse(url)` over the same
feeds, one after the other.

    .venv/bin/python bench/bench_polling.py [--feeds 1000] [--changed 0.1] [--concurrency 8] [--shards 2]

By default the feeds are split into 2 contiguous shards, each polled by its own long-lived worker
process with its own state store and half of --concurrency (what the DAG's mapped poll tasks do;
CI has 2 cores); the timed cycle runs from handing all shards the "poll" message until the last one
answers. `--shards 1` polls in the benchmark process itself. The baseline is always one process,
sequential. Both sides print what they use, and the CPU seconds each cycle cost (client + simulator).

All feeds share one simulated host, which stands in for many publishers: per-host politeness is set
to the global concurrency with no delay (printed below), so the figure measures the poller itself.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
import warnings
from collections import Counter
from contextlib import ExitStack
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _shard_worker(conn: Connection, feeds: list[tuple[str, str]], overrides: dict[str, Any]) -> None:
    """One shard: its own poller, store and event loop; polls its feeds on every message."""
    sys.path.insert(0, str(REPO))
    warnings.filterwarnings("ignore")
    from pipeline.config import load_settings
    from pipeline.feeds.catalog import FeedConfig
    from pipeline.feeds.poller import poll_feeds
    from pipeline.feeds.state import InMemoryFeedStateStore

    settings = load_settings({}, **overrides)
    configs = [FeedConfig(id=fid, name=f"Synthetic {fid}", url=url) for fid, url in feeds]
    store = InMemoryFeedStateStore()
    conn.send("ready")
    while conn.recv() is not None:
        cpu = time.process_time()
        results = poll_feeds(configs, store, settings)
        conn.send((Counter(r.outcome.status.value for r in results), sum(len(r.new_entries) for r in results),
                   time.process_time() - cpu))


class Shards:
    """N pre-started worker processes; `poll()` runs one cycle on all of them at once."""

    def __init__(self, n: int, feeds: list[tuple[str, str]], overrides: dict[str, Any]) -> None:
        ctx = mp.get_context("spawn")
        per = -(-len(feeds) // n)
        self.conns: list[Connection] = []
        self.procs = []
        for i in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_shard_worker, args=(child, feeds[i * per:(i + 1) * per], overrides),
                               daemon=True, name=f"poll-shard-{i}")
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
        for conn in self.conns:
            assert conn.recv() == "ready"

    def poll(self) -> tuple[Counter[str], int, float]:
        """One cycle on every shard: (outcomes, new entries, CPU seconds summed over the shards)."""
        for conn in self.conns:
            conn.send("poll")
        outcomes: Counter[str] = Counter()
        new = 0
        cpu = 0.0
        for conn in self.conns:
            counts, n, used = conn.recv()
            outcomes.update(counts)
            new += n
            cpu += used
        return outcomes, new, cpu

    def close(self) -> None:
        for conn, proc in zip(self.conns, self.procs, strict=True):
            conn.send(None)
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--changed", type=float, default=0.1, help="share of feeds with a new item")
    ap.add_argument("--concurrency", type=int, default=8, help="in-flight requests, summed over the shards")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="simulated server round trip in ms added to every response (default 0: loopback)")
    ap.add_argument("--hosts", type=int, default=1,
                    help="spread the feeds over this many simulator processes (distinct host:port, like publishers)")
    ap.add_argument("--per-host", type=int, default=0,
                    help="per-host concurrency (default: --concurrency divided by --hosts)")
    ap.add_argument("--rounds", type=int, default=3, help="timed poller cycles (median reported)")
    ap.add_argument("--shards", type=int, default=2,
                    help="poll in this many worker processes, each with its share of the feeds and of "
                         "--concurrency (like the DAG's mapped poll tasks); the baseline stays one process")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import feedparser

    from pipeline.config import load_settings
    from pipeline.feeds.catalog import FeedConfig
    from pipeline.feeds.poller import poll_feeds
    from pipeline.feeds.state import InMemoryFeedStateStore
    from simulator.process import SimulatorProcess

    shards = max(1, args.shards)
    per_shard = max(1, args.concurrency // shards)
    overrides: dict[str, Any] = dict(
        allow_private_addresses=True, allowed_private_networks="127.0.0.0/8", per_host_delay=0.0,
        per_host_concurrency=args.per_host or max(1, per_shard // args.hosts), global_concurrency=per_shard)
    settings = load_settings({}, **overrides)
    print(f"poller: {shards} process(es) ({'1 in the benchmark process' if shards == 1 else 'shard workers'}), "
          f"each global_concurrency={settings.global_concurrency} "
          f"per_host_concurrency={settings.per_host_concurrency} per_host_delay={settings.per_host_delay}; "
          f"SSRF guard on (127.0.0.0/8 allowed), size caps and timeouts at their defaults")
    print("baseline: 1 process, sequential feedparser.parse(url), one feed at a time")
    print(f"simulated latency: {args.latency:g} ms per response")
    print(f"simulator processes (hosts): {args.hosts}")
    with ExitStack() as stack:
        sims = [stack.enter_context(SimulatorProcess(latency=args.latency / 1000)) for _ in range(args.hosts)]
        owner = {}
        urls: list[str] = []
        per = -(-args.feeds // args.hosts)
        for h, sim in enumerate(sims):
            count = min(per, args.feeds - h * per)
            host_urls = sim.add_synthetic_feeds(count, items_per_feed=args.items, prefix=f"h{h}")
            urls += host_urls
            owner.update({f"h{h}-{i:04d}": sim for i in range(count)})
        ids = list(owner)
        feeds = [FeedConfig(id=fid, name=f"Synthetic {fid}", url=u) for fid, u in zip(ids, urls, strict=True)]
        store = InMemoryFeedStateStore()
        pool = None
        if shards > 1:
            pool = Shards(shards, list(zip(ids, urls, strict=True)), overrides)
            stack.callback(pool.close)

        def sim_cpu() -> float:
            return sum(sim.cpu_seconds() or 0.0 for sim in sims)

        def cycle() -> tuple[Counter[str], int, float]:
            if pool is not None:
                return pool.poll()
            cpu = time.process_time()
            results = poll_feeds(feeds, store, settings)
            return (Counter(r.outcome.status.value for r in results), sum(len(r.new_entries) for r in results),
                    time.process_time() - cpu)

        started = time.perf_counter()
        first_outcomes, first_new, _ = cycle()
        first_s = time.perf_counter() - started
        print(f"first cycle (no validators yet): {first_s:.2f}s, {first_new} new entries, {dict(first_outcomes)}")

        step = max(1, round(1 / args.changed)) if args.changed > 0 else 0
        timings = []
        cpus = []
        for rnd in range(args.rounds):
            changed = ids[rnd % max(1, step)::step] if step else []
            for feed_id in changed:
                owner[feed_id].add_article(feed_id, f"Fresh item {rnd} for {feed_id}",
                                           link=owner[feed_id].url(f"/articles/{feed_id}-fresh-{rnd}.html"))
            started, sim_started = time.perf_counter(), sim_cpu()
            outcomes, new, cpu = cycle()
            timings.append(time.perf_counter() - started)
            cpus.append((cpu, sim_cpu() - sim_started))
            assert new == len(changed), (new, len(changed))
            print(f"  round {rnd + 1}: {timings[-1]:.2f}s, outcomes {dict(outcomes)}, {new} new entries, "
                  f"CPU {cpu:.2f}s poller + {cpus[-1][1]:.2f}s simulator")
        poller_s = statistics.median(timings)
        poller_cpu = statistics.median(c + s for c, s in cpus)
        poller_client_cpu = statistics.median(c for c, _ in cpus)

        started, cpu_started, sim_started = time.perf_counter(), time.process_time(), sim_cpu()
        baseline_entries = 0
        for url in urls:
            parsed = feedparser.parse(url)
            baseline_entries += len(parsed.entries)
        baseline_s = time.perf_counter() - started
        baseline_client_cpu = time.process_time() - cpu_started
        baseline_cpu = baseline_client_cpu + sim_cpu() - sim_started

    print(f"newswatch poller, {shards} process(es) (median of {args.rounds}): {poller_s:7.2f}s  ({len(feeds) / poller_s:7.1f} feeds/s)")
    print(f"sequential feedparser.parse, 1 process:        {baseline_s:7.2f}s  ({len(feeds) / baseline_s:7.1f} feeds/s, "
          f"{baseline_entries} entries parsed, no dedup)")
    print(f"speed-up: {baseline_s / poller_s:.1f}x (goal: >= 20x)")
    # wall time depends on what else the machine runs; CPU seconds (client + simulator) do much less
    print(f"CPU per cycle (client + simulator): poller {poller_cpu:.2f}s, baseline {baseline_cpu:.2f}s, "
          f"ratio {baseline_cpu / poller_cpu:.1f}x" if poller_cpu > 0 else "CPU per cycle: not measured")
    if poller_client_cpu > 0:
        print(f"CPU per cycle (client only, simulator excluded): poller {poller_client_cpu:.2f}s, "
              f"baseline {baseline_client_cpu:.2f}s, ratio {baseline_client_cpu / poller_client_cpu:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
