"""Extraction quality and speed: `newswatch extract`'s pipeline versus bare `trafilatura.extract()`.

Over the article-extraction-benchmark corpus (181 news pages with hand-checked article bodies):
token-level precision/recall/F1 per page (lower-cased \\w+ tokens, bag-of-words overlap), averaged
over pages, and pages per second. Both run in the same process on the same pages.

    .venv/bin/python bench/bench_extraction.py [CORPUS_DIR] [--limit N]

CORPUS_DIR defaults to ../shared/corpus/article-extraction-benchmark next to the repository.
Skips cleanly (exit 0) when the corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


def prf(predicted: str, truth: str) -> tuple[float, float, float]:
    a, b = tokens(predicted), tokens(truth)
    common = sum((a & b).values())
    p = common / sum(a.values()) if a else 0.0
    r = common / sum(b.values()) if b else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def summarize(name: str, scores: list[tuple[float, float, float]], seconds: float) -> dict[str, float]:
    n = len(scores)
    row = {"precision": sum(s[0] for s in scores) / n, "recall": sum(s[1] for s in scores) / n,
           "f1": sum(s[2] for s in scores) / n, "pages_per_s": n / seconds, "seconds": seconds}
    print(f"{name:22} P={row['precision']:.4f} R={row['recall']:.4f} F1={row['f1']:.4f} "
          f"{row['pages_per_s']:6.1f} pages/s ({seconds:.1f}s)")
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    truth_file = corpus / "ground-truth.json"
    if not truth_file.is_file():
        print(f"bench_extraction: corpus not found at {corpus}; skipping")
        return 0
    warnings.filterwarnings("ignore")
    import trafilatura

    from pipeline.cli.extract import extract_sources

    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    ids = sorted(truth)[: args.limit or None]
    paths = [str(corpus / "html" / f"{i}.html.gz") for i in ids]
    print(f"{len(ids)} pages from {corpus}")

    # warm up both (imports, lazy tables) outside the timed runs
    extract_sources(paths[:1]).__next__()
    trafilatura.extract(gzip.decompress(Path(paths[0]).read_bytes()).decode("utf-8"))

    started = time.perf_counter()
    rows = list(extract_sources(paths))
    pipeline_s = time.perf_counter() - started
    statuses = Counter(r["status"] for r in rows)
    pipeline_scores = [prf(r["text"], truth[i]["articleBody"]) for i, r in zip(ids, rows, strict=True)]

    htmls = [gzip.decompress(Path(p).read_bytes()).decode("utf-8") for p in paths]
    started = time.perf_counter()
    bare = [trafilatura.extract(h) or "" for h in htmls]
    bare_s = time.perf_counter() - started
    bare_scores = [prf(t, truth[i]["articleBody"]) for i, t in zip(ids, bare, strict=True)]

    pipe = summarize("newswatch extract", pipeline_scores, pipeline_s)
    base = summarize("trafilatura.extract()", bare_scores, bare_s)
    print(f"outcomes: {dict(statuses)}")
    print(f"F1 ratio pipeline/bare: {pipe['f1'] / base['f1']:.4f} (delta {pipe['f1'] - base['f1']:+.4f}); "
          f"speed ratio: {pipe['pages_per_s'] / base['pages_per_s']:.2f}x")
    better = sum(1 for a, b in zip(pipeline_scores, bare_scores, strict=True) if a[2] > b[2] + 1e-9)
    worse = sum(1 for a, b in zip(pipeline_scores, bare_scores, strict=True) if a[2] < b[2] - 1e-9)
    print(f"pages better: {better}, worse: {worse}, same: {len(ids) - better - worse}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
