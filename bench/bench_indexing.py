"""Indexing throughput: the bulk IndexWriter vs one document per request, same articles, same run.

    .venv/bin/python bench/bench_indexing.py [--articles 2000] [--batch 500]

Uses NEWSWATCH_ES_URL when set, else starts a throwaway embedded node. Articles are recombined from the
real texts in ../shared/corpus when present (else built-in paragraphs), with entities and claims.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _es import cluster  # noqa: E402

from pipeline.index.documents import article_document, claim_documents  # noqa: E402
from pipeline.index.names import IndexNames  # noqa: E402
from pipeline.index.setup import ensure_indices  # noqa: E402
from pipeline.index.synthetic import recombined_corpus  # noqa: E402
from pipeline.index.writer import IndexWriter  # noqa: E402


def one_by_one(es, names: IndexNames, batch) -> float:
    start = time.perf_counter()
    for tagged in batch:
        for doc_id, doc in claim_documents(tagged):
            es.index(index=names.claims, id=doc_id, document=doc)
        es.index(index=names.articles, id=tagged.article.article_id, document=article_document(tagged))
    return time.perf_counter() - start


def bulk(es, settings, batch, size: int) -> float:
    writer = IndexWriter(es, settings)
    start = time.perf_counter()
    for i in range(0, len(batch), size):
        report = writer.write(batch[i:i + size])
        if not report.ok:
            raise SystemExit(f"bulk writer failed: {report.failed[0].outcome.reason}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500, help="articles per IndexWriter.write call")
    args = parser.parse_args()
    batch = list(recombined_corpus(args.articles, seed=42))
    claims = sum(len(t.tags.claims) for t in batch)
    print(f"{len(batch)} articles, {claims} claims ({len(batch) + claims} documents)")
    with cluster("bench-idx") as (es, settings):
        ensure_indices(es, settings)
        names = IndexNames(settings.index_prefix)
        # warm up both paths on a few articles that are not measured
        one_by_one(es, names, list(recombined_corpus(20, seed=1)))
        bulk(es, settings, list(recombined_corpus(20, seed=2)), args.batch)
        baseline = one_by_one(es, names, batch)
        fast = bulk(es, settings, batch, args.batch)  # same ids: both paths do a full write of every doc
        es.indices.refresh(index=f"{names.articles},{names.claims}")
        count = es.count(index=names.articles)["count"]
    rate_base, rate_bulk = len(batch) / baseline, len(batch) / fast
    print(f"one document per request: {baseline:8.2f} s  {rate_base:8.1f} articles/s "
          f"({(len(batch) + claims) / baseline:8.1f} docs/s)")
    print(f"bulk IndexWriter:         {fast:8.2f} s  {rate_bulk:8.1f} articles/s "
          f"({(len(batch) + claims) / fast:8.1f} docs/s)")
    print(f"ratio: bulk is {rate_bulk / rate_base:.1f}x faster  ({count} articles in the index)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
