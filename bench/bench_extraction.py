"""Extraction quality and speed: newswatch's extractor versus bare `trafilatura.extract()`.

Over the article-extraction-benchmark corpus (181 news pages with hand-checked article bodies):
token-level precision/recall/F1 per page (lower-cased \\w+ tokens, bag-of-words overlap), averaged
over pages, and pages per second.

Both sides get the same input: each page is read and decoded once, before any timing, the way
newswatch decodes a fetched body (`decode_body`). Timed are `extract_html(html)` (what the CLI and
the DAGs run per page: parse, metadata, main text, outcome checks, language) and
`trafilatura.extract(html)` over the same list of strings. Rounds alternate which side goes first;
the speed ratio is the median of the per-round ratios of pages/s, and the spread is printed, then
the same ratio from the process's CPU time (steadier when other jobs share the cores).

    .venv/bin/python bench/bench_extraction.py [CORPUS_DIR] [--limit N] [--repeat R]

CORPUS_DIR defaults to ../shared/corpus/article-extraction-benchmark next to the repository.
Skips cleanly (exit 0) when the corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def summarize(name: str, scores: list[tuple[float, float, float]], rates: list[float]) -> dict[str, float]:
    row = {"precision": mean([s[0] for s in scores]), "recall": mean([s[1] for s in scores]),
           "f1": mean([s[2] for s in scores]), "pages_per_s": statistics.median(rates)}
    print(f"{name:22} P={row['precision']:.4f} R={row['recall']:.4f} F1={row['f1']:.4f} "
          f"{row['pages_per_s']:6.1f} pages/s (median of {len(rates)}; runs: "
          + " ".join(f"{r:.1f}" for r in rates) + ")")
    return row


def timed(fn: Callable[[str], Any], htmls: list[str]) -> tuple[list[Any], float, float]:
    """(outputs, wall seconds, CPU seconds of this process)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = [fn(h) for h in htmls]
    return out, time.perf_counter() - started, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds per side (alternating order)")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    truth_file = corpus / "ground-truth.json"
    if not truth_file.is_file():
        print(f"bench_extraction: corpus not found at {corpus}; skipping")
        return 0
    warnings.filterwarnings("ignore")
    import trafilatura

    from pipeline.extract.extractor import extract_html
    from pipeline.fetch.charset import decode_body

    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    ids = sorted(truth)[: args.limit or None]
    htmls = [decode_body(gzip.decompress((corpus / "html" / f"{i}.html.gz").read_bytes()))[0] for i in ids]
    print(f"{len(ids)} pages from {corpus}")

    sides: dict[str, Callable[[str], Any]] = {"newswatch": extract_html,
                                              "bare": lambda html: trafilatura.extract(html) or ""}
    for fn in sides.values():  # warm up both (imports, lazy tables) outside the timed runs
        fn(htmls[0])
    rates: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    outputs: dict[str, list[Any]] = {}
    for round_no in range(max(1, args.repeat)):
        for side in (("newswatch", "bare") if round_no % 2 == 0 else ("bare", "newswatch")):
            out, seconds, cpu_seconds = timed(sides[side], htmls)
            outputs.setdefault(side, out)
            rates[side].append(len(htmls) / seconds)
            cpu[side].append(cpu_seconds)
    ratios = [n / b for n, b in zip(rates["newswatch"], rates["bare"], strict=True)]
    cpu_ratios = [b / n for n, b in zip(cpu["newswatch"], cpu["bare"], strict=True)]

    articles = outputs["newswatch"]
    pipeline_scores = [prf(a.text, truth[i]["articleBody"]) for i, a in zip(ids, articles, strict=True)]
    bare_scores = [prf(t, truth[i]["articleBody"]) for i, t in zip(ids, outputs["bare"], strict=True)]
    pipe = summarize("newswatch extract", pipeline_scores, rates["newswatch"])
    base = summarize("trafilatura.extract()", bare_scores, rates["bare"])
    print(f"outcomes: {dict(Counter(a.outcome.status.value for a in articles))}")
    print(f"F1 newswatch {pipe['f1']:.4f} vs bare {base['f1']:.4f} (delta {pipe['f1'] - base['f1']:+.4f}); "
          f"speed ratio newswatch/bare: {statistics.median(ratios):.2f}x "
          f"(per round: {' '.join(f'{r:.2f}' for r in ratios)})")
    print(f"same from CPU time (less sensitive to other load on the machine): {statistics.median(cpu_ratios):.2f}x "
          f"(per round: {' '.join(f'{r:.2f}' for r in cpu_ratios)})")
    better = sum(1 for a, b in zip(pipeline_scores, bare_scores, strict=True) if a[2] > b[2] + 1e-9)
    worse = sum(1 for a, b in zip(pipeline_scores, bare_scores, strict=True) if a[2] < b[2] - 1e-9)
    print(f"pages better: {better}, worse: {worse}, same: {len(ids) - better - worse}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
