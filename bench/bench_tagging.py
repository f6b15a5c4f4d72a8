"""Tagging throughput vs bare spaCy parsing, on the same corpus texts in the same run.

Baseline: ``nlp.pipe`` over the texts (tokenizer, tagger, parser, NER: the work the tagger needs).
Stock: the same ``nlp.pipe`` with the model as ``spacy.load`` gives it (newswatch's pipeline differs only in
its attribute ruler, which finds the same matches by lookup), to show what that saves.
Tagger: ``Tagger.tag_many`` over the same texts (language detection, the same ``nlp.pipe`` plus entity
cleanup, alias merging, attribution, statements, speakers, certainty, types, checkworthiness and span
validation). Goal: the tagger costs at most 15% more than parsing alone.

The tagger does not parse texts that are not English (no claims, and no model for their entities), so
over the whole corpus it can be cheaper than bare parsing; the English texts alone are the fair measure of
the rules' overhead and are reported separately. Wall-clock and CPU time are both printed: on a shared
machine the process's CPU time is the steadier of the two. `rules` is the CPU time of the rules alone on
Docs parsed beforehand.

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
from typing import Any

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
    from pipeline.tagging.language import detect
    from pipeline.tagging.tagger import get_tagger, is_english

    texts = load_texts(args.shared, args.limit)
    english = [t for t in texts if is_english(detect(t))]
    tagger = get_tagger()
    nlp = tagger.nlp
    tagger.tag_many(texts[:5])  # warm-up: model caches, matcher, language model
    from _spacy import stock_nlp as load_stock

    from pipeline.tagging.nlp import _patch_tokenizer

    _, stock_nlp = load_stock()
    _patch_tokenizer(stock_nlp)  # the same tokens: only the attribute ruler differs
    list(stock_nlp.pipe(texts[:5]))

    def bare(batch: list[str], pipeline: Any = nlp) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in pipeline.pipe(batch, batch_size=args.batch_size, n_process=args.n_process):
            pass
        return time.perf_counter() - t0, time.process_time() - c0

    def full(batch: list[str]) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        tagger.tag_many(batch, batch_size=args.batch_size, n_process=args.n_process)
        return time.perf_counter() - t0, time.process_time() - c0

    print(f"texts: {len(texts)} ({len(english)} English)  characters: {sum(len(t) for t in texts)}  "
          f"batch_size: {args.batch_size}  n_process: {args.n_process}  rounds: {args.repeat}")
    for label, batch in (("all texts", texts), ("English texts", english)):
        bare_times, full_times, stock_times = [], [], []
        for _ in range(args.repeat):
            stock_times.append(bare(batch, stock_nlp))
            bare_times.append(bare(batch))
            full_times.append(full(batch))
        b, f = min(t for t, _ in bare_times), min(t for t, _ in full_times)
        bc, fc = min(c for _, c in bare_times), min(c for _, c in full_times)
        sc = min(c for _, c in stock_times)
        n = len(batch)
        print(f"[{label}] stock spaCy   : {n / min(t for t, _ in stock_times):8.2f} docs/s  ({sc:.2f} s CPU); "
              f"newswatch's parse costs {bc / sc:.3f}x its CPU, the full tagger {fc / sc:.3f}x")
        print(f"[{label}] bare nlp.pipe : {n / b:8.2f} docs/s  ({b:.2f} s wall, {bc:.2f} s CPU)")
        print(f"[{label}] full tagger   : {n / f:8.2f} docs/s  ({f:.2f} s wall, {fc:.2f} s CPU)")
        print(f"[{label}] ratio tagger/bare time: {f / b:.3f}  overhead: {(f / b - 1) * 100:+.1f}% wall, "
              f"{(fc / bc - 1) * 100:+.1f}% CPU  (goal <= +15%)")
    docs = list(nlp.pipe(english, batch_size=args.batch_size))
    rules = []
    for _ in range(args.repeat):
        for d in docs:
            d.user_data.clear()
        t0 = time.process_time()
        for text, d in zip(english, docs, strict=True):
            tagger.tag_doc(d, text)
        rules.append(time.process_time() - t0)
    parse_cpu = min(c for _, c in bare_times)  # CPU time of the English parse, best round
    r = min(rules)
    print(f"rules alone on parsed Docs: {r / len(docs) * 1000:.1f} ms CPU per English text "
          f"({r / parse_cpu * 100:.1f}% of the bare parse's CPU time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
