"""Evaluate the tagger against the gold set in eval/gold/*.yaml (and eval/languages.yaml).

The repo keeps only labels; texts come from ../shared (the article-extraction benchmark's
ground-truth.json, keyed by article hash, and seeds/example-article.txt). When ../shared is absent
the script says so and exits 0.

Gold files carry `split`: `dev` (default; the rules were developed looking at these) or `v2-blind`
(labelled before the claims-v2 tagger was first run on them). Figures are reported for each split and
for all together. Metrics (micro-averaged):

  claim recall         a gold key phrase lies inside a predicted claim
  speaker accuracy     of the recalled gold claims, the predicted speaker matches (null = no speaker); a
                       name matches the speaker's name, mention, or any name of the speaker's entity
  speaker via X        the same, for gold claims whose speaker is referred to by a pronoun, a relative
                       pronoun or a nominal mention ("the utility") (`via:` in the gold)
  certainty accuracy   of the recalled gold claims, the predicted level (high/medium/low, the FactBank
                       collapse in docs/tagging.md) matches; also over the hedged gold claims only
  overlapping claims   predicted claims overlapping another claim of the same text by half their span
  pronoun speakers     predicted speakers whose name is a pronoun or relative word ("he", "who")
  non-claims           `not_claims` phrases (listings, headings) that lie in no predicted claim
  entity P/R           type-aware, PERSON/ORG/GPE/LOC only; an entity matches when the types agree
                       (a gold `type` may list several) and a name or alias on either side is the same;
                       `optional` gold entities count for precision, not recall
  alias merge          a listed surface form lands in the entity with the expected id
  language             detected language of eval/languages.yaml texts; claims from non-English texts

`--corpus` adds overlap and pronoun-speaker counts over every corpus text (no labels needed).

Usage: python eval/evaluate_tagger.py [--shared DIR] [--verbose] [--json] [--corpus]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.tagging.aliases import ids_for_query, normalize_key  # noqa: E402

GOLD_DIR = Path(__file__).resolve().parent / "gold"
LANGUAGES = Path(__file__).resolve().parent / "languages.yaml"
EVAL_TYPES = {"PERSON", "ORG", "GPE", "LOC"}
CORPUS = "corpus/article-extraction-benchmark/ground-truth.json"
PRONOUNS = frozenset("""he she him her his hers it its they them their we us our i me my you your who whom whose
    which that this these those what whatever one""".split())
LEVELS = ("high", "medium", "low")

GOALS = {"claim_recall": 0.95, "speaker_accuracy": 0.95, "certainty_accuracy": 0.85, "entity_precision": 0.95,
         "entity_recall": 0.95, "alias_merge_accuracy": 0.90, "overlap_rate": ("<", 0.03),
         "pronoun_speakers": ("<=", 0), "language_accuracy": 0.95, "non_english_claims": ("<=", 0)}


def default_shared() -> Path:
    return Path(os.environ.get("NEWSWATCH_SHARED_DIR", ROOT.parent / "shared"))


def norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("\xad", "")
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


def speaker_matches(gold: str | None, speaker: dict | None, entities: dict[str, dict] | None = None) -> bool:
    if gold is None or speaker is None:
        return gold is None and speaker is None
    g = normalize_key(gold)
    names = {normalize_key(speaker["name"]), normalize_key(speaker["mention"])}
    entity = (entities or {}).get(speaker.get("entity_id") or "")
    if entity is not None:
        names |= {normalize_key(n) for n in [entity["name"], *entity["aliases"]]}
    if g in names or any(g and g in n for n in names if n):
        return True
    return bool(speaker.get("entity_id")) and speaker["entity_id"] in ids_for_query(gold)


def entity_surfaces(name: str, others: list[str]) -> set[str]:
    return {normalize_key(n) for n in [name, *others] if n}


def overlapping(claims: list[dict]) -> int:
    """Claims that overlap another claim of the same text by half their own span or more."""
    n = 0
    for c in claims:
        span = max(1, c["end"] - c["start"])
        if any(d is not c and min(c["end"], d["end"]) - max(c["start"], d["start"]) >= 0.5 * span for d in claims):
            n += 1
    return n


def pronoun_speakers(claims: list[dict]) -> list[str]:
    return [c["speaker"]["name"] for c in claims if c["speaker"] and c["speaker"]["name"].strip().lower() in PRONOUNS]


class Counts:
    KEYS = ("claims", "recalled", "speaker_ok", "attributed", "attributed_ok", "certainty_ok", "hedged", "hedged_ok",
            "pred_claims", "overlapping", "pronoun_speakers", "not_claims", "not_claims_ok", "pred_ents", "pred_ok",
            "gold_ents", "gold_found", "aliases", "aliases_ok")

    def __init__(self) -> None:
        self.c = Counter({k: 0 for k in self.KEYS})
        self.via: Counter[str] = Counter()
        self.via_ok: Counter[str] = Counter()
        self.confusion: Counter[tuple[str, str]] = Counter()

    def ratio(self, a: str, b: str) -> float:
        return round(self.c[a] / self.c[b], 4) if self.c[b] else 0.0

    def report(self) -> dict:
        c = self.c
        return {
            "claim_recall": self.ratio("recalled", "claims"),
            "speaker_accuracy": self.ratio("speaker_ok", "recalled"),
            "speaker_accuracy_attributed": self.ratio("attributed_ok", "attributed"),
            **{f"speaker_via_{v}": round(self.via_ok[v] / self.via[v], 4) for v in sorted(self.via)},
            "certainty_accuracy": self.ratio("certainty_ok", "recalled"),
            "certainty_accuracy_hedged": self.ratio("hedged_ok", "hedged"),
            "overlap_rate": self.ratio("overlapping", "pred_claims"),
            "pronoun_speakers": c["pronoun_speakers"],
            "non_claims_absent": self.ratio("not_claims_ok", "not_claims"),
            "entity_precision": self.ratio("pred_ok", "pred_ents"),
            "entity_recall": self.ratio("gold_found", "gold_ents"),
            "alias_merge_accuracy": self.ratio("aliases_ok", "aliases"),
            "certainty_confusion": {f"{g}->{p}": n for (g, p), n in sorted(self.confusion.items())},
            "counts": dict(c),
            "via_counts": dict(self.via),
        }


def score_doc(doc: dict, data: dict, counts: list[Counts]) -> list[str]:
    """Adds one document's figures to every Counts in `counts`; returns its misses."""
    misses: list[str] = []
    entities = {e["id"]: e for e in data["entities"]}
    claims = data["claims"]

    def add(key: str, n: int = 1) -> None:
        for k in counts:
            k.c[key] += n

    add("pred_claims", len(claims))
    add("overlapping", overlapping(claims))
    bad = pronoun_speakers(claims)
    add("pronoun_speakers", len(bad))
    misses += [f"pronoun speaker: {b!r}" for b in bad]
    for g in doc.get("claims") or []:
        add("claims")
        phrase = norm(g["phrase"])
        hits = [cl for cl in claims if phrase in norm(cl["text"])]
        if not hits:
            misses.append(f"claim missed: {g['phrase']!r}")
            continue
        add("recalled")
        hit = min(hits, key=lambda cl: len(cl["text"]))
        want = g.get("speaker")
        ok = speaker_matches(want, hit["speaker"], entities)
        if want is not None:
            add("attributed")
            add("attributed_ok", int(ok))
        add("speaker_ok", int(ok))
        if g.get("via"):
            for k in counts:
                k.via[g["via"]] += 1
                k.via_ok[g["via"]] += int(ok)
        if not ok:
            got = hit["speaker"] and (hit["speaker"]["name"], hit["speaker"]["mention"])
            misses.append(f"speaker: {g['phrase'][:50]!r} want {want!r} got {got!r}")
        level, got_level = g.get("certainty"), hit["certainty"]["level"]
        for k in counts:
            k.confusion[(level, got_level)] += 1
        add("certainty_ok", int(level == got_level))
        if level != "high":
            add("hedged")
            add("hedged_ok", int(level == got_level))
        if level != got_level:
            misses.append(f"certainty: {g['phrase'][:50]!r} want {level} got {got_level} {hit['certainty']['cues']}")
    for phrase in doc.get("not_claims") or []:
        add("not_claims")
        inside = [cl for cl in claims if norm(phrase) in norm(cl["text"])]
        add("not_claims_ok", int(not inside))
        if inside:
            misses.append(f"non-sentence claimed: {phrase!r} in {inside[0]['text'][:60]!r}")
    if "entities" in doc:
        misses += score_entities(doc, data, add)
    for a in doc.get("aliases") or []:
        add("aliases")
        owner = next((e for e in data["entities"] if any(m["text"] == a["mention"] for m in e["mentions"])), None)
        ok = owner is not None and owner["id"] == a["id"]
        add("aliases_ok", int(ok))
        if not ok:
            misses.append(f"alias: {a['mention']!r} want {a['id']} got {owner and owner['id']}")
    return misses


def score_entities(doc: dict, data: dict, add: Callable[..., None]) -> list[str]:
    misses: list[str] = []
    gold = []
    for e in doc.get("entities") or []:
        types = set(e["type"]) if isinstance(e["type"], list) else {e["type"]}
        gold.append((types, entity_surfaces(e["name"], e.get("also") or []), bool(e.get("optional"))))
    pred = [(e["type"], entity_surfaces(e["name"], e["aliases"]), e["name"]) for e in data["entities"]
            if e["type"] in EVAL_TYPES]
    for t, surf, name in pred:
        add("pred_ents")
        if any(t in gt and surf & gs for gt, gs, _ in gold):
            add("pred_ok")
        else:
            misses.append(f"entity not in gold: {name} ({t})")
    for gt, gs, optional in gold:
        if optional:
            continue
        add("gold_ents")
        if any(t in gt and surf & gs for t, surf, _ in pred):
            add("gold_found")
        else:
            misses.append(f"entity missed: {sorted(gs)} ({'/'.join(sorted(gt))})")
    return misses


def evaluate(docs: list[dict], texts: list[str], verbose: bool = False) -> dict:
    from pipeline.tagging.tagger import get_tagger

    results = get_tagger().tag_many(texts)
    overall = Counts()
    splits: dict[str, Counts] = {}
    per_doc = []
    for doc, result in zip(docs, results, strict=True):
        split = doc.get("split", "dev")
        counts = [overall, splits.setdefault(split, Counts())]
        data = result.model_dump()
        misses = score_doc(doc, data, counts)
        per_doc.append({"file": doc["file"], "split": split, "claims": len(doc.get("claims") or []),
                        "predicted_claims": len(data["claims"])})
        if verbose:
            print(f"--- {doc['file']} ({split}): {len(doc.get('claims') or [])} gold claims")
            for m in misses:
                print("   ", m)
    report = {"documents": len(docs), **overall.report(),
              "splits": {name: {"documents": sum(1 for d in per_doc if d["split"] == name), **k.report()}
                         for name, k in sorted(splits.items())},
              "per_doc": per_doc}
    return report


def evaluate_languages(corpus: dict, verbose: bool = False) -> dict:
    from pipeline.tagging.tagger import get_tagger

    rows = yaml.safe_load(LANGUAGES.read_text(encoding="utf-8")) or []
    keys = {k[:8]: k for k in corpus}
    rows = [r for r in rows if r["key"] in keys]
    results = get_tagger().tag_many([corpus[keys[r["key"]]]["articleBody"] for r in rows])
    ok = non_english = claims = 0
    for r, res in zip(rows, results, strict=True):
        got = getattr(res.tagger, "language", None)
        ok += got == r["language"]
        if r["language"] != "en":
            non_english += 1
            claims += len(res.claims)
        if verbose and (got != r["language"] or (r["language"] != "en" and res.claims)):
            print(f"    language: {r['key']} want {r['language']} got {got} ({len(res.claims)} claims)")
    return {"language_texts": len(rows), "language_accuracy": round(ok / len(rows), 4) if rows else 0.0,
            "non_english_texts": non_english, "non_english_claims": claims}


def evaluate_corpus(corpus: dict) -> dict:
    """Overlap and pronoun speakers over every corpus text: no labels needed."""
    from pipeline.tagging.tagger import get_tagger

    texts = [v["articleBody"] for _, v in sorted(corpus.items()) if v.get("articleBody")]
    n = over = bad = english = 0
    for res in get_tagger().tag_many(texts):
        claims = [c.model_dump() for c in res.claims]
        english += getattr(res.tagger, "claims_skipped", None) is None
        n += len(claims)
        over += overlapping(claims)
        bad += len(pronoun_speakers(claims))
    return {"corpus_texts": len(texts), "corpus_english_texts": english, "corpus_claims": n,
            "corpus_overlap_rate": round(over / n, 4) if n else 0.0, "corpus_pronoun_speakers": bad}


def _goal(key: str, value: float) -> str:
    goal = GOALS.get(key)
    if goal is None:
        return ""
    op, target = goal if isinstance(goal, tuple) else (">=", goal)
    met = value < target if op == "<" else value <= target if op == "<=" else value >= target
    shown = f"{target * 100:.0f}%" if isinstance(target, float) else str(target)
    return f"  (goal {op} {shown}: {'met' if met else 'NOT met'})"


def _print(report: dict, title: str) -> None:
    c = report["counts"]
    print(f"== {title}: {report['documents']} documents, {c['claims']} gold claims, {c['gold_ents']} gold entities, "
          f"{c['aliases']} alias checks, {c['pred_claims']} predicted claims")
    for key, value in report.items():
        if key in ("documents", "counts", "via_counts", "splits", "per_doc", "certainty_confusion") \
                or key.startswith(("language", "non_english", "corpus")):
            continue
        if key == "pronoun_speakers":
            print(f"  {key:32s} {value:6d}{_goal(key, value)}")
            continue
        extra = f"  (n={report['via_counts'][key[12:]]})" if key.startswith("speaker_via_") else ""
        if key == "non_claims_absent" and not c["not_claims"]:
            continue  # no such labels in this split
        print(f"  {key:32s} {value * 100:6.1f}%{_goal(key, value)}{extra}")
    print("  certainty (gold->predicted)      " + "  ".join(f"{k}: {v}" for k, v in report["certainty_confusion"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=default_shared(), help="the read-only data directory")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--corpus", action="store_true", help="also count overlaps and pronoun speakers over every corpus text")
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
    if corpus is not None:
        report.update(evaluate_languages(corpus, verbose=args.verbose))
        if args.corpus:
            report.update(evaluate_corpus(corpus))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    _print(report, "all")
    for name, split in report["splits"].items():
        _print(split, f"split {name}")
    if "language_texts" in report:
        print(f"== language: {report['language_texts']} texts")
        print(f"  {'language_accuracy':32s} {report['language_accuracy'] * 100:6.1f}%"
              f"{_goal('language_accuracy', report['language_accuracy'])}")
        print(f"  {'non_english_claims':32s} {report['non_english_claims']:6d}"
              f"{_goal('non_english_claims', report['non_english_claims'])}  (over {report['non_english_texts']} texts)")
    if "corpus_texts" in report:
        print(f"== corpus: {report['corpus_texts']} texts ({report['corpus_english_texts']} tagged as English), "
              f"{report['corpus_claims']} claims")
        print(f"  {'corpus_overlap_rate':32s} {report['corpus_overlap_rate'] * 100:6.1f}%"
              f"{_goal('overlap_rate', report['corpus_overlap_rate'])}")
        print(f"  {'corpus_pronoun_speakers':32s} {report['corpus_pronoun_speakers']:6d}"
              f"{_goal('pronoun_speakers', report['corpus_pronoun_speakers'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
