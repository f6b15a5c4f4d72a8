"""Shared by the index/search benchmarks: a cluster (NEWSWATCH_ES_URL, or a throwaway embedded node)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator

from pipeline.config import Settings, load_settings
from pipeline.es import client_from_settings


@contextlib.contextmanager
def cluster(prefix: str) -> Iterator[tuple[object, Settings]]:
    """(client, settings with a unique index prefix); indices and templates are removed afterwards."""
    url = os.environ.get("NEWSWATCH_ES_URL")
    tmp = None
    if not url:
        from pipeline import devnode

        tmp = tempfile.mkdtemp(prefix="bench-es-")
        url = devnode.start(tmp, port=devnode.free_port(), timeout=180)
        print(f"started an embedded node at {url}")
    settings = load_settings(es_url=url, index_prefix=f"{prefix}-{uuid.uuid4().hex[:6]}", es_request_timeout=120)
    es = client_from_settings(settings)
    try:
        yield es, settings
    finally:
        cleanup(es, settings.index_prefix)
        es.close()
        if tmp:
            from pipeline import devnode

            devnode.stop(tmp)


def cleanup(es, prefix: str) -> None:
    from pipeline.index.setup import drop_prefix

    drop_prefix(es, prefix)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def warm_cluster(es, url: str, articles: int = 240, rounds: int = 4) -> float:
    """Bulk-write tagged articles (articles, claims, the real mappings) under a throwaway prefix and
    remove them: a fresh JVM compiles its hot paths during its first bulks (seconds of CPU), while a
    production cluster is long-running. Returns the seconds taken. Runs no tagger (synthetic claims)."""
    import time

    from pipeline.index.setup import ensure_indices
    from pipeline.index.synthetic import recombined_corpus
    from pipeline.index.writer import IndexWriter

    settings = load_settings(es_url=url, index_prefix=f"nwwarm-{uuid.uuid4().hex[:6]}", es_request_timeout=120)
    corpus = list(recombined_corpus(articles, seed=3))
    t0 = time.perf_counter()
    try:
        ensure_indices(es, settings)
        writer = IndexWriter(es, settings)
        size = max(1, articles // rounds)
        for start in range(0, len(corpus), size):
            writer.write(corpus[start:start + size])
        es.indices.refresh(index=f"{settings.index_prefix}-*")
        es.search(index=f"{settings.index_prefix}-claims", query={"match": {"text": "said"}}, size=10)
    finally:
        cleanup(es, settings.index_prefix)
    return time.perf_counter() - t0
