"""Pairwise precision and recall of story clustering on syndicated variants of real news pages.

Every article of ../shared/corpus/article-extraction-benchmark (real pages, ground-truth text) is taken
as published (its real HTML) and re-published by other outlets, each in its own page template, with the
edits syndication makes: a new headline, the last paragraphs dropped, a sentence or two edited, a
dateline, the outlet's boilerplate inside the article (newsletter and follow-us lines, a local
paragraph). Hard negatives come along: different articles re-templated by one outlet with the same
in-article boilerplate, and every pair of different articles (the corpus has several on one topic).

All pages go through the real extractor and then through `Stories` on a real Elasticsearch node, in a
shuffled order and in batches, as at ingest. A pair counts as "same story" when both come from one
corpus article.

    .venv/bin/python eval/evaluate_stories.py [--variants 3] [--seed 1] [--es URL]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html import escape
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "article-extraction-benchmark"

OUTLETS = [
    ("wire-daily.example", "Wire Daily", "Sign up for the Wire Daily newsletter to get the day's top stories.",
     "Follow Wire Daily on social media for breaking news updates."),
    ("metro-herald.example", "Metro Herald", "Get the Metro Herald app for alerts on stories like this one.",
     "Have a news tip? Contact the Metro Herald newsroom any time of day."),
    ("county-gazette.example", "County Gazette", "Support local journalism: subscribe to the County Gazette today.",
     "Copyright County Gazette. This material may not be republished without permission."),
    ("global-times-wire.example", "Global Times Wire", "This story was provided by our wire partners and edited "
     "for length and style.", "More coverage of this topic is available in our world news section."),
]
DATELINES = ["NEW YORK (AP) — ", "LONDON (Reuters) - ", "WASHINGTON — ", "PARIS (AFP) – ", "BERLIN, Nov 24 — "]
EDITS = [("said", "told reporters"), ("the", "this"), ("would", "will"), ("percent", "per cent"),
         ("about", "around"), ("but", "however")]


def page(outlet: tuple[str, str, str, str], title: str, paragraphs: list[str], boilerplate: bool) -> str:
    domain, name, promo, footer = outlet
    body = list(paragraphs)
    if boilerplate:  # inside the article element, where extraction keeps it
        body.insert(min(3, len(body)), promo)
        body.append(footer)
    nav = "".join(f'<li><a href="/{s}">{s.title()}</a></li>' for s in ("news", "world", "business", "sport"))
    text = "".join(f"<p>{escape(p)}</p>" for p in body)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)} - {escape(name)}</title>"
            f"</head><body><header><b>{escape(name)}</b><nav><ul>{nav}</ul></nav></header><main><article>"
            f"<h1>{escape(title)}</h1><p class=byline>By {escape(name)} staff</p>{text}</article>"
            f"<aside><h2>Most read</h2><ul><li><a href=/a>Other story one</a></li><li><a href=/b>Other story two"
            f"</a></li></ul></aside></main><footer>{escape(footer)}</footer></body></html>")


def edit_sentences(paragraphs: list[str], rng: random.Random, n: int = 2) -> list[str]:
    out = list(paragraphs)
    for _ in range(n):
        i = rng.randrange(len(out))
        for old, new in rng.sample(EDITS, len(EDITS)):
            if f" {old} " in out[i]:
                out[i] = out[i].replace(f" {old} ", f" {new} ", 1)
                break
    return out


def variant(paragraphs: list[str], title: str, kind: str, rng: random.Random) -> tuple[str, list[str], bool]:
    """(headline, paragraphs, boilerplate) of one re-publication."""
    new_title = f"{title.split(':')[0][:60]} — report" if title else "Report"
    keep = max(2, int(len(paragraphs) * rng.uniform(0.7, 0.9)))
    if kind == "retemplate":
        return new_title, paragraphs, True
    if kind == "trimmed":
        return new_title, paragraphs[:keep], False
    if kind == "edited":
        return title, edit_sentences(paragraphs, rng), True
    if kind == "dateline":
        return new_title, [rng.choice(DATELINES) + paragraphs[0], *paragraphs[1:]], False
    if kind == "local":
        local = ("Local officials said they were following the situation closely and would share more "
                 "information with residents later in the week.")
        return new_title, [*paragraphs[:2], local, *paragraphs[2:]], True
    if kind == "short":  # a brief: the first half or so
        return new_title, paragraphs[:max(2, int(len(paragraphs) * rng.uniform(0.45, 0.6)))], True
    if kind == "new_lead":  # the outlet wrote its own first paragraph
        lead = ("In a development closely watched by readers, new details emerged this week about a story "
                "that has drawn wide attention.")
        return new_title, [lead, *paragraphs[1:]], False
    # everything at once
    edited = edit_sentences(paragraphs[:keep], rng)
    return new_title, [rng.choice(DATELINES) + edited[0], *edited[1:]], True


KINDS = ["retemplate", "trimmed", "edited", "dateline", "local", "combined", "short", "new_lead"]


def build(n_variants: int, seed: int) -> list[tuple[str, str, str, str]]:
    """(url, html, source id, kind) for the originals, their variants and the same-outlet negatives."""
    rng = random.Random(seed)
    truth = json.loads((CORPUS / "ground-truth.json").read_text())
    items: list[tuple[str, str, str, str]] = []
    for key in sorted(truth):
        path = CORPUS / "html" / f"{key}.html.gz"
        if not path.exists():
            continue
        body = truth[key].get("articleBody") or ""
        paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        items.append((truth[key].get("url") or f"https://corpus.example/{key}", html, key, "original"))
        if len(paragraphs) < 3:
            continue
        title = paragraphs[0][:80]
        for v, kind in enumerate(rng.sample(KINDS, n_variants)):
            outlet = OUTLETS[v % len(OUTLETS)]
            head, paras, boiler = variant(paragraphs, title, kind, rng)
            items.append((f"https://{outlet[0]}/{key[:12]}/{kind}", page(outlet, head, paras, boiler), key, kind))
    return items


def extract_all(items: list[tuple[str, str, str, str]], start: datetime) -> list[tuple[object, str, str]]:
    from pipeline.extract.extractor import extract_article
    from pipeline.outcomes import Outcome
    from pipeline.records import FeedEntry, FetchedPage, article_id_for

    out = []
    for i, (url, html, source, kind) in enumerate(items):
        entry = FeedEntry(feed_id="eval", url=url, canonical_url=url, article_id=article_id_for(url))
        page_ = FetchedPage(entry=entry, final_url=url, outcome=Outcome.success(), http_status=200,
                            content_type="text/html", body=html, fetched_at=start + timedelta(seconds=i))
        article = extract_article(page_)
        if article.outcome.ok and article.text.strip():
            out.append((article, source, kind))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", type=int, default=3, help="re-publications per article (default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=40,
                    help="articles per clustering batch (default 40: about what the index sink gathers per write)")
    ap.add_argument("--es", help="Elasticsearch URL (default: start the embedded dev node)")
    args = ap.parse_args()
    if not CORPUS.exists():
        print(f"corpus not found at {CORPUS}; nothing to evaluate")
        return 0
    from pipeline import devnode
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings
    from pipeline.index.setup import drop_prefix, ensure_indices
    from pipeline.stories.assign import Stories

    items = build(args.variants, args.seed)
    arts = extract_all(items, datetime(2026, 11, 20, tzinfo=UTC))
    print(f"{len(items)} pages, {len(arts)} extracted ({sum(1 for _, _, k in arts if k == 'original')} originals)")
    url = args.es
    tmp = None
    if not url:
        import tempfile

        tmp = tempfile.mkdtemp(prefix="nw-eval-stories-")
        url = devnode.start(tmp, port=devnode.free_port(), timeout=180, stop_with_caller=True)
    settings = load_settings(es_url=url, index_prefix=f"nw-eval-{uuid.uuid4().hex[:6]}")
    es = client_from_settings(settings)
    ensure_indices(es, settings)
    try:
        order = list(range(len(arts)))
        random.Random(args.seed).shuffle(order)
        stories = Stories(es, settings)
        story_of: dict[str, str] = {}
        for i in range(0, len(order), args.batch):
            batch = [arts[j][0] for j in order[i:i + args.batch]]
            story_of.update(stories.assign(batch).story_of)
        # merges after an article was assigned move it: read the final stories back, the last batch's
        # writes included (a lookup refreshes before it searches; this read-back must do the same)
        stories.store.refresh()
        final = {m.article_id: m.story_id for ms in stories.store.members(set(story_of.values())).values()
                 for m in ms}
        story_of.update(final)
    finally:
        drop_prefix(es, settings.index_prefix)
        if tmp:
            devnode.stop(tmp)
    tp = fp = fn = 0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (a, sa, ka), (b, sb, kb) in combinations(arts, 2):
        same_pred = story_of[a.article_id] == story_of[b.article_id]
        same_true = sa == sb
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
        if same_true:
            kind = kb if ka == "original" else ka if kb == "original" else f"{ka}+{kb}"
            by_kind[kind][0] += same_pred
            by_kind[kind][1] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"pairs: {tp} joined correctly, {fp} joined wrongly, {fn} missed")
    print(f"pairwise precision {precision:.3f} (goal >= 0.97), recall {recall:.3f} (goal >= 0.90)")
    for kind in sorted(k for k in by_kind if "+" not in k):
        hit, total = by_kind[kind]
        print(f"  original ~ {kind:<10} {hit}/{total} joined")
    variant_pairs = [v for k, v in by_kind.items() if "+" in k]
    if variant_pairs:
        print(f"  variant ~ variant      {sum(v[0] for v in variant_pairs)}/{sum(v[1] for v in variant_pairs)} joined")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
