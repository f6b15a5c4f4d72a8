"""Search latency p50/p95: text, text+entity, free text with an entity name (alias expansion) and claim
queries through pipeline.search, against a bare `match` query on the same index (the baseline), same run.

    .venv/bin/python bench/bench_search.py [--articles 50000] [--queries 200]

Articles are recombined from the real texts in ../shared/corpus when present (else built-in paragraphs)
and bulk-indexed first. Uses NEWSWATCH_ES_URL when set, else starts a throwaway embedded node.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _es import cluster, percentile  # noqa: E402

from pipeline.index.features import detect_features  # noqa: E402
from pipeline.index.names import IndexNames  # noqa: E402
from pipeline.index.setup import ensure_indices  # noqa: E402
from pipeline.index.synthetic import POOL, corpus_paragraphs, recombined_corpus  # noqa: E402
from pipeline.index.writer import IndexWriter  # noqa: E402
from pipeline.search import SearchQuery, search  # noqa: E402

ENTITY_QUERIES = ["DPRK", "North Korea", "U.S.", "Russia", "NATO", "UN", "China", "EU"]


def words_from_corpus(rng: random.Random, n: int) -> list[str]:
    text = " ".join(corpus_paragraphs() or ["budget rules prices energy flood minister talks emissions"])
    words = [w.lower() for w in re.findall(r"[A-Za-z]{5,}", text)]
    return [rng.choice(words) for _ in range(n)]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per kind")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(5)
    with cluster("bench-search") as (es, settings):
        ensure_indices(es, settings)  # the explicit set-up step; the writer never creates indices
        english = detect_features(es).english_analyzer
        print(f"English analysis (.english subfields searched): {'yes' if english else 'no'}")
        writer = IndexWriter(es, settings)
        start = time.perf_counter()
        batch = []
        for tagged in recombined_corpus(args.articles, seed=77):
            batch.append(tagged)
            if len(batch) == args.batch:
                writer.write(batch)
                batch = []
        if batch:
            writer.write(batch)
        names = IndexNames(settings.index_prefix)
        es.indices.refresh(index=f"{names.articles},{names.claims}")
        es.indices.forcemerge(index=f"{names.articles},{names.claims}", max_num_segments=5)
        loaded = time.perf_counter() - start
        n_articles = es.count(index=names.articles)["count"]
        n_claims = es.count(index=names.claims)["count"]
        print(f"indexed {n_articles} articles and {n_claims} claims in {loaded:.0f} s")

        words = words_from_corpus(rng, args.queries * 4)
        persons = [e.name for e in POOL if e.type == "PERSON"]
        it = itertools.cycle(words)
        kinds: dict[str, Callable[[], object]] = {
            "baseline: bare match on text": lambda: es.search(index=names.articles, size=10,
                                                             query={"match": {"text": next(it)}}),
            "text (highlights, claims, facets)": lambda: search(es, SearchQuery(text=next(it)), settings),
            "text + entity (alias-resolved)": lambda: search(
                es, SearchQuery(text=next(it), entities=[rng.choice(ENTITY_QUERIES)]), settings),
            "free text: entity name + 2 words (alias expansion)": lambda: search(
                es, SearchQuery(text=f"{rng.choice(ENTITY_QUERIES)} {next(it)} {next(it)}"), settings),
            "entity + speaker + certainty (nested claims)": lambda: search(
                es, SearchQuery(entities=[rng.choice(ENTITY_QUERIES)], speakers=[rng.choice(persons)],
                                certainty=rng.choice(["low", "medium", "high"])), settings),
            "claims index: text + speaker + certainty": lambda: search(
                es, SearchQuery(text=next(it), speakers=[rng.choice(persons)], claims=True,
                                certainty=rng.choice(["low", "medium", "high"])), settings),
        }
        for fn in kinds.values():  # warm caches for every query shape
            timed(fn, 10)
        results = {name: timed(fn, args.queries) for name, fn in kinds.items()}
    base = percentile(next(iter(results.values())), 50)
    print(f"{'query kind':<52} {'p50 ms':>8} {'p95 ms':>8} {'p50 vs baseline':>16}")
    for name, values in results.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        print(f"{name:<52} {p50:8.1f} {p95:8.1f} {p50 / base:15.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
