"""Story lookups as the fingerprints index grows: the per-article cost of clustering at 10k and 100k
stored fingerprints, against a linear scan over every stored signature in the same run.

    .venv/bin/python bench/bench_stories.py [--sizes 10000 100000] [--articles 100]

Stored fingerprints are synthetic (random MinHash signatures, their band keys, seen within the window),
as many distinct articles would be; the articles clustered against them are real text shapes (300-word
texts), one batch of 20 at a time through `Stories.assign` on a real Elasticsearch node (NEWSWATCH_ES_URL
or a throwaway embedded node). The baseline compares each new signature with every stored one (numpy,
in memory: the cheapest possible linear scan, which needs every signature in memory). Sub-linear means
the per-article cost grows much less than the number of stored fingerprints.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime.now(UTC)


def _stored_docs(start: int, count: int, rng: np.random.Generator):
    from pipeline.stories.fingerprint import NUM_PERM, band_keys

    sigs = rng.integers(0, 2**32, size=(count, NUM_PERM), dtype=np.uint64).astype("<u4")
    for i in range(count):
        sig = sigs[i].tobytes()
        aid = f"stored-{start + i}"
        seen = (NOW - timedelta(minutes=int(rng.integers(0, 7 * 24 * 60)))).isoformat()
        yield sigs[i], {"article_id": aid, "story_id": aid, "story_started_at": seen, "seen_at": seen,
                        "url": f"https://outlet{i % 500}.example/{aid}", "outlet": f"outlet{i % 500}.example",
                        "words": 300, "shingles": 296, "bands": list(band_keys(sig)),
                        "signature": base64.b64encode(sig).decode()}


def _articles(n: int, seed: int):
    from pipeline.outcomes import Outcome
    from pipeline.records import Article

    rng = random.Random(seed)
    vocab = [f"word{i}" for i in range(20000)]
    return [Article(article_id=f"new-{seed}-{i}", url=f"https://new.example/{seed}/{i}",
                    canonical_url=f"https://new.example/{seed}/{i}", outcome=Outcome.success(),
                    domain="new.example", fetched_at=NOW, text=" ".join(rng.choice(vocab) for _ in range(300)))
            for i in range(n)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--articles", type=int, default=100, help="articles clustered per size (default 100)")
    args = ap.parse_args()

    from elasticsearch import helpers

    from pipeline import devnode
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings
    from pipeline.index.setup import drop_prefix, ensure_indices
    from pipeline.stories.assign import Stories, fingerprint_article

    node_dir = None
    url = os.environ.get("NEWSWATCH_ES_URL")
    if not url:
        node_dir = Path(tempfile.mkdtemp(prefix="nw-bench-stories-"))
        url = devnode.start(node_dir, port=devnode.free_port(), timeout=180, heap="1g")
    settings = load_settings(es_url=url, index_prefix=f"nwbench-stories-{uuid.uuid4().hex[:6]}")
    es = client_from_settings(settings).options(request_timeout=120)
    ensure_indices(es, settings)
    index = f"{settings.index_prefix}-fingerprints"
    rng = np.random.default_rng(1)
    stored_sigs: list[np.ndarray] = []
    results = []
    try:
        loaded = 0
        for size in sorted(args.sizes):
            t0 = time.perf_counter()
            batch = list(_stored_docs(loaded, size - loaded, rng))
            stored_sigs += [s for s, _ in batch]
            helpers.bulk(es, ({"_index": index, "_id": d["article_id"], "_source": d} for _, d in batch),
                         chunk_size=2000)
            es.indices.refresh(index=index)
            es.options(request_timeout=600).indices.forcemerge(index=index, max_num_segments=1)  # settled
            loaded = size
            print(f"stored:   {size} fingerprints (loaded in {time.perf_counter() - t0:.0f}s)")

            stories = Stories(es, settings)
            arts = _articles(args.articles, seed=size)
            stories.assign(_articles(20, seed=size + 1))  # warm caches for this index size
            t0 = time.perf_counter()
            for i in range(0, len(arts), 20):
                stories.assign(arts[i:i + 20])
            lsh = (time.perf_counter() - t0) / len(arts)

            matrix = np.vstack(stored_sigs)
            prints = [fingerprint_article(a, settings.story_min_words) for a in arts]
            t0 = time.perf_counter()
            for fp in prints:
                (np.count_nonzero(matrix == fp.hashvalues(), axis=1) >= 64).nonzero()
            linear = (time.perf_counter() - t0) / len(prints)
            results.append((size, lsh, linear))
            print(f"  per article: clustering through the index {lsh * 1000:.1f} ms; "
                  f"linear scan over every signature {linear * 1000:.1f} ms")
        if len(results) >= 2:
            (n0, l0, s0), (n1, l1, s1) = results[0], results[-1]
            print(f"growth {n0} -> {n1} stored ({n1 / n0:.0f}x): clustering per article x{l1 / l0:.2f}, "
                  f"linear scan x{s1 / s0:.2f}; at {n1}: clustering {l1 / s1:.2f}x the linear scan's time")
    finally:
        drop_prefix(es, settings.index_prefix)
        if node_dir is not None:
            devnode.stop(node_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
