"""Watch evaluation: 1,000 watches against 10,000 newly indexed claims, batched `_msearch`
(pipeline.alerts.evaluate) beside the naive one-search-per-watch loop, same run, same watches, same window.

    .venv/bin/python bench/bench_alerts.py [--watches 1000] [--claims 10000] [--batch 100]

Goal: the batched evaluation under 10 s on the embedded node. Articles are recombined from the real texts in
../shared/corpus (else built-in paragraphs) with synthetic entities and claims, and bulk-indexed first; the
watches mix claim and article searches, each on a subject (a word or two from the corpus) narrowed by
entities (aliases resolve), speakers, certainty or sites, as people write them. Both methods are checked to find the same matches. Then the whole `evaluate_watches` step
(evaluation + recording every match + moving 1,000 high-water marks) is timed too. Uses NEWSWATCH_ES_URL
when set, else starts a throwaway embedded node.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _es import cluster  # noqa: E402
from bench_search import ENTITY_QUERIES, words_from_corpus  # noqa: E402

from pipeline.alerts.evaluate import Window, evaluate, evaluate_naive  # noqa: E402
from pipeline.alerts.model import Target, Watch, WatchSearch  # noqa: E402
from pipeline.alerts.run import evaluate_watches, stores  # noqa: E402
from pipeline.index.features import detect_features  # noqa: E402
from pipeline.index.names import IndexNames  # noqa: E402
from pipeline.index.setup import ensure_indices  # noqa: E402
from pipeline.index.synthetic import POOL, SITES, recombined_corpus  # noqa: E402
from pipeline.index.writer import IndexWriter  # noqa: E402

GOAL_SECONDS = 10.0


def make_watches(n: int, rng: random.Random, now: datetime) -> list[Watch]:
    words = words_from_corpus(rng, n * 5)
    persons = [e.name for e in POOL if e.type == "PERSON"]
    out: list[Watch] = []
    for i in range(n):
        kind = i % 5
        if kind == 0:  # claims: a word and a speaker
            search = WatchSearch(text=words[i], speakers=[rng.choice(persons)], claims=True)
        elif kind == 1:  # claims: low-certainty claims about an entity, on a subject
            search = WatchSearch(text=words[3 * n + i], entities=[rng.choice(ENTITY_QUERIES)], certainty="low",
                                 claims=True)
        elif kind == 2:  # claims: two words
            search = WatchSearch(text=f"{words[i]} {words[n + i]}", claims=True)
        elif kind == 3:  # articles: an entity and a word
            search = WatchSearch(text=words[2 * n + i], entities=[rng.choice(ENTITY_QUERIES)])
        else:  # articles: a speaker's claims of some certainty on one site, on a subject
            search = WatchSearch(text=words[4 * n + i], speakers=[rng.choice(persons)],
                                 certainty=rng.choice(["low", "high"]), sites=[rng.choice(SITES)])
        out.append(Watch.new(f"w{i:04d}", search, Target.parse("webhook:bench"), now=now))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="searches per _msearch request")
    args = parser.parse_args()
    rng = random.Random(11)
    with cluster("bench-alerts") as (es, settings):
        ensure_indices(es, settings)
        english = detect_features(es).english_analyzer
        names = IndexNames(settings.index_prefix)
        before = datetime.now(UTC) - timedelta(seconds=1)
        writer, batch, claims, articles = IndexWriter(es, settings), [], 0, 0
        start = time.perf_counter()
        for tagged in recombined_corpus(10 * args.claims, seed=21):
            batch.append(tagged)
            claims += len(tagged.tags.claims)
            articles += 1
            if len(batch) == 500 or claims >= args.claims:
                writer.write(batch)
                batch = []
            if claims >= args.claims:
                break
        es.indices.refresh(index=f"{names.articles},{names.claims}")
        print(f"indexed {articles} articles with {claims} claims in {time.perf_counter() - start:.0f} s "
              f"(English analysis: {'yes' if english else 'no'})")
        now = datetime.now(UTC)
        watches = make_watches(args.watches, rng, before)
        window = Window(since=before, until=now)

        def window_for(w: Watch) -> Window:
            return window

        evaluate(es, watches[:200], window_for, names, english, batch=args.batch)  # warm-up, both shapes
        evaluate_naive(es, watches[:50], window_for, names, english)
        naive = evaluate_naive(es, watches, window_for, names, english)
        batched = evaluate(es, watches, window_for, names, english, batch=args.batch)
        same = batched.matches == naive.matches
        hit = sum(1 for v in batched.matches.values() if v)
        print(f"{len(watches)} watches x {claims} new claims ({articles} articles); {batched.total} matches, "
              f"{hit} watches matched; same matches in both: {'yes' if same else 'NO'}; errors: {len(batched.errors)}")
        print(f"naive loop (one search per watch): {naive.seconds:6.2f} s  ({naive.requests} requests)")
        print(f"batched _msearch ({args.batch} per request): {batched.seconds:6.2f} s  ({batched.requests} requests)"
              f"  goal < {GOAL_SECONDS:.0f} s: {'met' if batched.seconds < GOAL_SECONDS else 'MISSED'}")
        print(f"ratio naive / batched: {naive.seconds / batched.seconds:.1f}x")

        store, _ = stores(es, settings)
        for w in watches:  # the whole step as the DAG runs it: from the watches index, recording matches
            w.state.high_water_mark = w.state.not_before = before
        from elasticsearch import helpers

        helpers.bulk(es, ({"_index": store.index, "_id": w.watch_id, "_source": w.model_dump(mode="json")}
                          for w in watches), refresh=True)
        t0 = time.perf_counter()
        manifest = evaluate_watches(settings, es=es, setup=False, now=now)
        full = time.perf_counter() - t0
        print(f"evaluate_watches (read {manifest['watches']} watches, evaluate, record {manifest['new_matches']} "
              f"matches, move the high-water marks): {full:.2f} s")
        return 0 if same and not batched.errors else 1


if __name__ == "__main__":
    sys.exit(main())
