"""Polling cycle time: newswatch's poller versus naive sequential `feedparser.parse(url)`.

1,000 synthetic feeds (30 items each, with summaries, authors and categories; ~15 KB) on the news-site simulator (127.0.0.1, its own process). After a first cycle
has stored validators, 10% of the feeds get a new item; then one timed cycle of the poller (90% of
the feeds answer 304; the median of --rounds cycles, each with fresh changes) and, in the same run, the baseline: `feedparser.parse(url)` over the same
feeds, one after the other.

    .venv/bin/python bench/bench_polling.py [--feeds 1000] [--changed 0.1] [--concurrency 32]

All feeds share one simulated host, which stands in for many publishers: per-host politeness is set
to the global concurrency with no delay (printed below), so the figure measures the poller itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--changed", type=float, default=0.1, help="share of feeds with a new item")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--latency", type=float, default=0.0,
                    help="simulated server round trip in ms added to every response (default 0: loopback)")
    ap.add_argument("--hosts", type=int, default=1,
                    help="spread the feeds over this many simulator processes (distinct host:port, like publishers)")
    ap.add_argument("--per-host", type=int, default=0,
                    help="per-host concurrency (default: --concurrency divided by --hosts)")
    ap.add_argument("--rounds", type=int, default=3, help="timed poller cycles (median reported)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import feedparser

    from pipeline.config import load_settings
    from pipeline.feeds.catalog import FeedConfig
    from pipeline.feeds.poller import poll_feeds
    from pipeline.feeds.state import InMemoryFeedStateStore
    from simulator.process import SimulatorProcess

    settings = load_settings({}, allow_private_addresses=True, allowed_private_networks="127.0.0.0/8",
                             per_host_delay=0.0,
                             per_host_concurrency=args.per_host or max(1, args.concurrency // args.hosts),
                             global_concurrency=args.concurrency)
    print(f"poller settings: global_concurrency={settings.global_concurrency} "
          f"per_host_concurrency={settings.per_host_concurrency} per_host_delay={settings.per_host_delay}")
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

        started = time.perf_counter()
        first = poll_feeds(feeds, store, settings)
        first_s = time.perf_counter() - started
        print(f"first cycle (no validators yet): {first_s:.2f}s, "
              f"{sum(len(r.new_entries) for r in first)} new entries, "
              f"{Counter(r.outcome.status.value for r in first)}")

        step = max(1, round(1 / args.changed)) if args.changed > 0 else 0
        timings = []
        for rnd in range(args.rounds):
            changed = ids[rnd % max(1, step)::step] if step else []
            for feed_id in changed:
                owner[feed_id].add_article(feed_id, f"Fresh item {rnd} for {feed_id}",
                                           link=owner[feed_id].url(f"/articles/{feed_id}-fresh-{rnd}.html"))
            started = time.perf_counter()
            results = poll_feeds(feeds, store, settings)
            timings.append(time.perf_counter() - started)
            outcomes = Counter(r.outcome.status.value for r in results)
            new = sum(len(r.new_entries) for r in results)
            assert new == len(changed), (new, len(changed))
            print(f"  round {rnd + 1}: {timings[-1]:.2f}s, outcomes {dict(outcomes)}, {new} new entries")
        poller_s = statistics.median(timings)

        started = time.perf_counter()
        baseline_entries = 0
        for url in urls:
            parsed = feedparser.parse(url)
            baseline_entries += len(parsed.entries)
        baseline_s = time.perf_counter() - started

    print(f"newswatch poller (median of {args.rounds}): {poller_s:7.2f}s  ({len(feeds) / poller_s:7.1f} feeds/s)")
    print(f"sequential feedparser.parse:       {baseline_s:7.2f}s  ({len(feeds) / baseline_s:7.1f} feeds/s, "
          f"{baseline_entries} entries parsed, no dedup)")
    print(f"speed-up: {baseline_s / poller_s:.1f}x (goal: >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
