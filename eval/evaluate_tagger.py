"""Evaluate the tagger against the dev gold set in eval/gold/*.yaml.

The repo keeps only labels; texts come from ../shared (the article-extraction benchmark's
ground-truth.json, keyed by article hash, and seeds/example-article.txt). When ../shared is absent
the script says so and exits 0.

Metrics (all micro-averaged over the gold set):
  claim recall       a gold key phrase lies inside a predicted claim
  speaker accuracy   of the recalled gold claims, the predicted speaker matches (null = no speaker)
  certainty accuracy of the recalled gold claims, the predicted level matches (also reported for the
                     gold claims labelled high or low only, since most claims are plain "medium")
  entity P/R         type-aware, PERSON/ORG/GPE/LOC only; an entity matches when the types agree
                     and a name or alias on either side is the same (case, dots, "the" ignored)
  alias merge        a listed surface form lands in the entity with the expected id

Usage: python eval/evaluate_tagger.py [--shared DIR] [--verbose] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.tagging.aliases import ids_for_query, normalize_key  # noqa: E402

GOLD_DIR = Path(__file__).resolve().parent / "gold"
EVAL_TYPES = {"PERSON", "ORG", "GPE", "LOC"}
CORPUS = "corpus/article-extraction-benchmark/ground-truth.json"


def default_shared() -> Path:
    return Path(os.environ.get("NEWSWATCH_SHARED_DIR", ROOT.parent / "shared"))


def norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


def load_gold() -> list[dict]:
    return [dict(yaml.safe_load(p.read_text(encoding="utf-8")), file=p.name) for p in sorted(GOLD_DIR.glob("*.yaml"))]


def load_text(doc: dict, shared: Path, corpus: dict | None) -> str | None:
    if doc["source"] == "seed":
        path = shared / doc["path"]
        return path.read_text(encoding="utf-8") if path.exists() else None
    if corpus is None or doc["key"] not in corpus:
        return None
    return corpus[doc["key"]]["articleBody"]


def speaker_matches(gold: str | None, speaker: dict | None) -> bool:
    if gold is None or speaker is None:
        return gold is None and speaker is None
    g = normalize_key(gold)
    names = {normalize_key(speaker["name"]), normalize_key(speaker["mention"])}
    if g in names or any(g and g in n for n in names):
        return True
    return bool(speaker.get("entity_id")) and speaker["entity_id"] in ids_for_query(gold)


def entity_surfaces(name: str, others: list[str]) -> set[str]:
    return {normalize_key(n) for n in [name, *others] if n}


def evaluate(docs: list[dict], texts: list[str], verbose: bool = False) -> dict:
    from pipeline.tagging.tagger import get_tagger

    results = get_tagger().tag_many(texts)
    c = dict.fromkeys(["claims", "recalled", "speaker_ok", "certainty_ok", "attributed", "attributed_ok",
                       "pred_ents", "pred_ok", "gold_ents", "gold_found", "aliases", "aliases_ok", "marked", "marked_ok"], 0)
    per_doc = []
    for doc, _text, result in zip(docs, texts, results, strict=True):
        data = result.model_dump()
        misses: list[str] = []
        doc_recalled = 0
        for g in doc.get("claims") or []:
            c["claims"] += 1
            phrase = norm(g["phrase"])
            hits = [cl for cl in data["claims"] if phrase in norm(cl["text"])]
            if not hits:
                misses.append(f"claim missed: {g['phrase']!r}")
                continue
            c["recalled"] += 1
            doc_recalled += 1
            hit = min(hits, key=lambda cl: len(cl["text"]))
            if g.get("speaker") is not None:
                c["attributed"] += 1
            if speaker_matches(g.get("speaker"), hit["speaker"]):
                c["speaker_ok"] += 1
                c["attributed_ok"] += g.get("speaker") is not None
            else:
                got = hit["speaker"] and (hit["speaker"]["name"], hit["speaker"]["mention"])
                misses.append(f"speaker: {g['phrase'][:50]!r} want {g.get('speaker')!r} got {got!r}")
            if g.get("certainty") != "medium":
                c["marked"] += 1
                c["marked_ok"] += g.get("certainty") == hit["certainty"]["level"]
            if g.get("certainty") == hit["certainty"]["level"]:
                c["certainty_ok"] += 1
            else:
                misses.append(f"certainty: {g['phrase'][:50]!r} want {g.get('certainty')} got "
                              f"{hit['certainty']['level']} {hit['certainty']['cues']}")
        gold_ents = [(e["type"], entity_surfaces(e["name"], e.get("also") or [])) for e in doc.get("entities") or []]
        pred_ents = [(e["type"], entity_surfaces(e["name"], e["aliases"]), e["name"]) for e in data["entities"]
                     if e["type"] in EVAL_TYPES]
        for t, surf, name in pred_ents:
            c["pred_ents"] += 1
            if any(t == gt and surf & gs for gt, gs in gold_ents):
                c["pred_ok"] += 1
            else:
                misses.append(f"entity not in gold: {name} ({t})")
        for gt, gs in gold_ents:
            c["gold_ents"] += 1
            if any(gt == t and surf & gs for t, surf, _ in pred_ents):
                c["gold_found"] += 1
            else:
                misses.append(f"entity missed: {sorted(gs)} ({gt})")
        for a in doc.get("aliases") or []:
            c["aliases"] += 1
            owner = next((e for e in data["entities"] if any(m["text"] == a["mention"] for m in e["mentions"])), None)
            if owner is not None and owner["id"] == a["id"]:
                c["aliases_ok"] += 1
            else:
                misses.append(f"alias: {a['mention']!r} want {a['id']} got {owner and owner['id']}")
        per_doc.append({"file": doc["file"], "claims": len(doc.get("claims") or []), "recalled": doc_recalled,
                        "misses": misses})
        if verbose:
            print(f"--- {doc['file']}: {doc_recalled}/{len(doc.get('claims') or [])} claims")
            for m in misses:
                print("   ", m)

    def ratio(a: str, b: str) -> float:
        return round(c[a] / c[b], 4) if c[b] else 0.0

    return {
        "documents": len(docs),
        "claim_recall": ratio("recalled", "claims"),
        "speaker_accuracy": ratio("speaker_ok", "recalled"),
        "speaker_accuracy_attributed": ratio("attributed_ok", "attributed"),
        "certainty_accuracy": ratio("certainty_ok", "recalled"),
        "certainty_accuracy_high_low": ratio("marked_ok", "marked"),
        "entity_precision": ratio("pred_ok", "pred_ents"),
        "entity_recall": ratio("gold_found", "gold_ents"),
        "alias_merge_accuracy": ratio("aliases_ok", "aliases"),
        "counts": c,
        "per_doc": [{k: v for k, v in d.items() if k != "misses"} for d in per_doc],
    }


GOALS = {"claim_recall": 0.90, "speaker_accuracy": 0.90, "certainty_accuracy": 0.80,
         "entity_precision": 0.90, "entity_recall": 0.95}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=default_shared(), help="the read-only data directory")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not args.shared.is_dir():
        print(f"skipped: shared data directory {args.shared} not found")
        return 0
    corpus_path = args.shared / CORPUS
    corpus = json.loads(corpus_path.read_text(encoding="utf-8")) if corpus_path.exists() else None
    docs, texts = [], []
    for doc in load_gold():
        text = load_text(doc, args.shared, corpus)
        if text is None:
            print(f"skipped {doc['file']}: text not found under {args.shared}", file=sys.stderr)
            continue
        docs.append(doc)
        texts.append(text)
    if not docs:
        print("skipped: no gold texts available")
        return 0
    report = evaluate(docs, texts, verbose=args.verbose)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"documents: {report['documents']}  gold claims: {report['counts']['claims']}  "
          f"gold entities: {report['counts']['gold_ents']}  alias checks: {report['counts']['aliases']}")
    for key in ("claim_recall", "speaker_accuracy", "speaker_accuracy_attributed", "certainty_accuracy",
                "certainty_accuracy_high_low",
                "entity_precision", "entity_recall", "alias_merge_accuracy"):
        goal = GOALS.get(key)
        mark = "" if goal is None else ("  (goal {:.0f}%: {})".format(goal * 100, "met" if report[key] >= goal else "NOT met"))
        print(f"{key:30s} {report[key] * 100:6.1f}%{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
