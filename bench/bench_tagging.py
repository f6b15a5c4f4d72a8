"""Tagging throughput vs bare spaCy parsing, on the same corpus texts in the same run.

Baseline: ``nlp.pipe`` over the texts (tokenizer, tagger, parser, NER: the work the tagger needs).
Tagger: ``Tagger.tag_many`` over the same texts (the same ``nlp.pipe`` plus entity cleanup, alias
merging, attribution, certainty, types, checkworthiness and span validation).
Goal: the tagger costs at most 15% more than parsing alone.

Usage: python bench/bench_tagging.py [--limit N] [--repeat R] [--batch-size B] [--n-process P]
Texts come from ../shared/corpus/article-extraction-benchmark/ground-truth.json; skipped if absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = "corpus/article-extraction-benchmark/ground-truth.json"


def load_texts(shared: Path, limit: int | None) -> list[str]:
    data = json.loads((shared / CORPUS).read_text(encoding="utf-8"))
    texts = [v["articleBody"] for _, v in sorted(data.items()) if v.get("articleBody")]
    return texts[:limit] if limit else texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("NEWSWATCH_SHARED_DIR", ROOT.parent / "shared")))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds; the best of each is reported")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-process", type=int, default=1)
    args = parser.parse_args(argv)
    if not (args.shared / CORPUS).exists():
        print(f"skipped: {args.shared / CORPUS} not found")
        return 0
    from pipeline.tagging.tagger import get_tagger

    texts = load_texts(args.shared, args.limit)
    tagger = get_tagger()
    nlp = tagger.nlp
    chars = sum(len(t) for t in texts)
    tagger.tag_many(texts[:5])  # warm-up: model caches, matcher

    def bare() -> float:
        t0 = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=args.batch_size, n_process=args.n_process):
            pass
        return time.perf_counter() - t0

    def full() -> float:
        t0 = time.perf_counter()
        tagger.tag_many(texts, batch_size=args.batch_size, n_process=args.n_process)
        return time.perf_counter() - t0

    bare_times, full_times = [], []
    for _ in range(args.repeat):
        bare_times.append(bare())
        full_times.append(full())
    b, f = min(bare_times), min(full_times)
    n = len(texts)
    print(f"texts: {n}  characters: {chars}  batch_size: {args.batch_size}  n_process: {args.n_process}  rounds: {args.repeat}")
    print(f"bare nlp.pipe : {n / b:8.2f} docs/s  ({b:.2f} s)")
    print(f"full tagger   : {n / f:8.2f} docs/s  ({f:.2f} s)")
    print(f"ratio tagger/bare time: {f / b:.3f}  overhead: {(f / b - 1) * 100:+.1f}%  (goal <= +15%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
