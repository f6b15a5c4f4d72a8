"""Known-item relevance: `newswatch search` against a plain `match` on the body, over real news articles.

    .venv/bin/python bench/bench_relevance.py [CORPUS_DIR] [--offset N] [--limit N] [--misses N]

CORPUS_DIR defaults to ../shared/corpus/article-extraction-benchmark next to the repository (181 real news
pages); the benchmark skips cleanly (exit 0) when it is absent. Uses NEWSWATCH_ES_URL when set, else starts
a throwaway embedded node.

Each page is extracted with newswatch's extractor, tagged with the tagger and written with IndexWriter (after
`ensure_indices`). Then every article gets known-item queries, built from the article by fixed rules:

  headline paraphrase   the headline's content words (without a " | Site" tail), each replaced by a synonym
                        from a fixed table of everyday news words, else nouns and verbs by their lemma
                        ("elections" -> "election"); every fourth word dropped; the rest in reverse order
  entity + key noun     the entity mentioned most often, written as another of its names when the alias table
                        knows one the article does not use ("DPRK" for "North Korea"), plus a key noun: the
                        headline's rarest noun over the corpus (what the article is about), or with
                        `--key-noun body` the body's highest tf x idf noun (the body's own best term: the
                        easiest case for a plain match on the body)

Both sides run every query on the same index in the same run, top 10: `pipeline.search.search` (what
`newswatch search` runs: the default SearchQuery with the query text) and a bare `match` on `text`. Prints
MRR@10 (reciprocal rank of the article, 0 when not in the top 10) and recall@10, per kind and overall.
Goal: MRR >= 0.85 and at least 0.10 above the plain match.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "article-extraction-benchmark"
GOAL_MRR, GOAL_GAIN = 0.85, 0.10
TOP = 10

# Everyday news vocabulary and a word a writer could use instead, by part of speech (lemma -> synonym).
# Written for news English in general, not for any particular set of headlines.
SYNONYMS: dict[str, dict[str, str]] = {
    "VERB": {
        "say": "state", "tell": "inform", "ask": "request", "buy": "purchase", "sell": "offload", "get": "obtain",
        "make": "create", "use": "employ", "help": "assist", "start": "begin", "begin": "start", "end": "finish",
        "stop": "halt", "show": "reveal", "reveal": "disclose", "find": "discover", "plan": "intend",
        "want": "seek", "seek": "pursue", "try": "attempt", "give": "provide", "take": "seize",
        "build": "construct", "raise": "increase", "increase": "boost", "boost": "lift", "cut": "reduce",
        "reduce": "lower", "rise": "climb", "fall": "drop", "drop": "decline", "win": "secure", "lose": "forfeit",
        "beat": "defeat", "fight": "battle", "kill": "slay", "die": "perish", "warn": "caution", "claim": "assert",
        "deny": "reject", "reject": "rebuff", "approve": "endorse", "ban": "prohibit", "block": "obstruct",
        "launch": "introduce", "announce": "declare", "hire": "recruit", "fire": "dismiss", "quit": "resign",
        "leave": "exit", "join": "enter", "move": "shift", "change": "alter", "keep": "retain", "need": "require",
        "grow": "expand", "expand": "widen", "face": "confront", "hit": "strike", "attack": "assault",
        "arrest": "detain", "investigate": "examine", "pay": "compensate", "save": "rescue", "close": "shut",
        "allow": "permit", "expect": "anticipate", "predict": "forecast", "agree": "consent", "discuss": "debate",
        "choose": "select", "pick": "choose", "worry": "fear", "push": "press", "criticize": "condemn",
        "praise": "commend", "urge": "press", "vow": "pledge", "promise": "pledge", "sue": "prosecute",
        "create": "make", "offer": "propose", "receive": "get", "send": "dispatch", "work": "labor",
    },
    "NOUN": {
        "car": "automobile", "firm": "company", "company": "firm", "business": "enterprise", "job": "position",
        "worker": "employee", "employee": "staffer", "boss": "chief", "chief": "head", "leader": "head",
        "law": "legislation", "rule": "regulation", "bill": "legislation", "deal": "agreement",
        "agreement": "accord", "talk": "discussion", "plan": "proposal", "price": "cost", "cost": "expense",
        "money": "funds", "tax": "levy", "child": "kid", "kid": "child", "student": "pupil", "teacher": "educator",
        "doctor": "physician", "death": "fatality", "crash": "collision", "fire": "blaze", "home": "house",
        "house": "home", "city": "town", "town": "city", "country": "nation", "nation": "country", "war": "conflict",
        "election": "vote", "vote": "ballot", "poll": "survey", "study": "research", "report": "study",
        "game": "match", "team": "squad", "player": "athlete", "film": "movie", "movie": "film", "show": "program",
        "phone": "handset", "problem": "issue", "issue": "problem", "help": "aid", "attack": "assault",
        "fight": "battle", "protest": "demonstration", "crime": "offense", "police": "cops", "court": "tribunal",
        "hospital": "clinic", "store": "shop", "shop": "store", "market": "marketplace", "stock": "share",
        "profit": "earnings", "loss": "deficit", "growth": "expansion", "rate": "level", "flood": "deluge",
        "virus": "infection", "disease": "illness", "drug": "medicine", "vaccine": "jab", "energy": "power",
        "power": "energy", "plant": "factory", "factory": "plant", "change": "shift", "rise": "increase",
        "fall": "decline", "cut": "reduction", "threat": "danger", "risk": "danger", "fear": "concern",
        "concern": "worry", "warning": "alert", "trip": "journey", "plane": "aircraft", "airline": "carrier",
        "ship": "vessel", "gun": "firearm", "weapon": "arm", "soldier": "troop", "army": "military",
        "military": "army", "government": "administration", "lawmaker": "legislator", "campaign": "drive",
        "idea": "notion", "question": "query", "answer": "response", "story": "tale", "song": "track",
        "app": "application", "data": "information", "information": "data", "technology": "tech",
        "device": "gadget", "gadget": "device", "internet": "web", "website": "site", "people": "persons",
        "way": "method", "group": "organization", "official": "authority", "expert": "specialist",
    },
    "ADJ": {
        "big": "large", "large": "big", "small": "little", "little": "small", "new": "latest", "old": "aging",
        "fast": "quick", "quick": "rapid", "slow": "sluggish", "high": "elevated", "low": "reduced",
        "cheap": "inexpensive", "expensive": "costly", "rich": "wealthy", "poor": "impoverished",
        "hard": "difficult", "difficult": "hard", "easy": "simple", "important": "key", "major": "big",
        "huge": "massive", "strong": "robust", "weak": "feeble", "early": "initial", "late": "delayed",
        "top": "leading", "best": "finest", "bad": "poor", "good": "fine", "angry": "furious", "happy": "glad",
        "sad": "unhappy", "local": "regional", "global": "worldwide", "national": "nationwide", "last": "final",
        "final": "last", "free": "complimentary", "full": "complete", "main": "primary", "popular": "well-liked",
        "dangerous": "hazardous", "safe": "secure", "illegal": "unlawful", "legal": "lawful",
        "foreign": "overseas", "federal": "national",
    },
}
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"})
_TITLE_TAIL = re.compile(r"\s+(?:\||-|–|—|::)\s+")


@dataclass
class Doc:
    article_id: str
    title: str
    text: str
    tagged: Any
    nouns: Counter[str]


@dataclass(frozen=True)
class KnownItem:
    kind: str
    query: str
    article_id: str


def headline(title: str) -> str:
    """The headline without a site tail ("Stocks fall - Reuters" -> "Stocks fall"): the longest segment."""
    parts = [p for p in _TITLE_TAIL.split(title) if p.strip()]
    return max(parts, key=lambda p: len(p.split())) if parts else title


def paraphrase(nlp: Any, title: str) -> str | None:
    """The headline's content words, synonym- or lemma-swapped, every fourth dropped, reversed; None when
    fewer than two words are left or nothing changed."""
    words: list[str] = []
    for tok in nlp(headline(title)):
        if tok.pos_ not in CONTENT_POS or tok.is_stop or not (tok.is_alpha or tok.like_num):
            continue
        lemma = tok.lemma_.lower()
        swap = SYNONYMS.get(tok.pos_, {}).get(lemma)
        if swap:
            words.append(swap)
        elif tok.pos_ in ("NOUN", "VERB") and lemma.isalpha() and lemma != tok.lower_:
            words.append(lemma)
        else:
            words.append(tok.text)
    kept = [w for i, w in enumerate(words) if i % 4 != 3][::-1]
    query = " ".join(kept)
    if len(kept) < 2 or query.lower() == headline(title).lower():
        return None
    return query


def other_name(entity: Any, text: str) -> str:
    """The entity as the reader might type it: another of its names from the alias table when the article
    does not use that one, else the name the tagger gave it."""
    from pipeline.tagging.aliases import get_table

    entry = get_table().entries.get(entity.id)
    if entry is not None:
        for name in (entry.name, *entry.aliases):
            if name.lower().startswith("the ") or len(name) < 2:
                continue
            if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
                return name
    return entity.name


def entity_query(nlp: Any, doc: Doc, df: Counter[str], n_docs: int, key_noun: str) -> str | None:
    """The main entity and a key noun: the headline's rarest noun (`key_noun="headline"`, what the article is
    about; the body's when the headline has none), or the body's highest tf x idf noun (`"body"`)."""
    entities = [e for e in doc.tagged.tags.entities if e.mentions]
    if not entities:
        return None
    main = max(entities, key=lambda e: (len(e.mentions), -min(m.start for m in e.mentions)))
    own = {w.lower() for w in re.findall(r"\w+", " ".join([main.name, *main.aliases]))}
    noun = None
    if key_noun == "headline" and doc.title:
        in_headline = [n for n in nouns_of(nlp(headline(doc.title))) if n not in own]
        if in_headline:
            noun = max(in_headline, key=lambda n: (math.log(n_docs / max(df[n], 1)), -in_headline.index(n)))
    if noun is None:
        scored = [(tf >= 2, tf * math.log(n_docs / df[n]), n) for n, tf in doc.nouns.items() if n not in own]
        if not scored:
            return None
        noun = max(scored)[2]
    return f"{other_name(main, doc.text)} {noun}"


def nouns_of(parsed: Any) -> Counter[str]:
    """Noun lemmas (lower case, 3+ letters, no stop words) with their counts, in order of first use."""
    return Counter(t.lemma_.lower() for t in parsed
                   if t.pos_ == "NOUN" and t.is_alpha and len(t.text) >= 3 and not t.is_stop)


def load(corpus: Path, limit: int, offset: int = 0) -> tuple[list[Doc], dict[str, int]]:
    """Extract and tag the pages (in page-id order, `limit` of them from `offset`, 0 = all); returns the
    articles to index and outcome counts."""
    from pipeline.extract.extractor import extract_html
    from pipeline.fetch.charset import decode_body
    from pipeline.records import TaggedArticle
    from pipeline.tagging.tagger import get_tagger

    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)[offset:][: limit or None]
    outcomes: Counter[str] = Counter()
    articles = []
    for page_id in ids:
        html = decode_body(gzip.decompress((corpus / "html" / f"{page_id}.html.gz").read_bytes()))[0]
        article = extract_html(html, truth[page_id].get("url"))
        outcomes[article.outcome.status.value] += 1
        if article.outcome.ok and article.text:
            articles.append(article)
    tagger = get_tagger()
    docs = []
    for article, parsed in zip(articles, tagger.nlp.pipe(a.text[:100_000] for a in articles), strict=True):
        tags = tagger.tag_doc(parsed, article.text[:100_000])
        docs.append(Doc(article.article_id, article.title or "", article.text,
                        TaggedArticle(article=article, tags=tags), nouns_of(parsed)))
    return docs, dict(outcomes)


def known_items(nlp: Any, docs: list[Doc], key_noun: str = "headline") -> list[KnownItem]:
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d.nouns))
    items = []
    for d in docs:
        if d.title and (q := paraphrase(nlp, d.title)):
            items.append(KnownItem("headline paraphrase", q, d.article_id))
        if q := entity_query(nlp, d, df, len(docs), key_noun):
            items.append(KnownItem("entity + key noun", q, d.article_id))
    return items


def rank(ids: list[str], target: str) -> int | None:
    return ids.index(target) + 1 if target in ids else None


def scores(ranks: list[int | None]) -> tuple[float, float]:
    """(MRR@10, recall@10)"""
    if not ranks:
        return float("nan"), float("nan")
    return (sum(1 / r for r in ranks if r) / len(ranks), sum(1 for r in ranks if r) / len(ranks))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages (after --offset)")
    ap.add_argument("--offset", type=int, default=0,
                    help="skip the first N pages (in page-id order): `--limit 90` and `--offset 90` split the "
                         "corpus into a part to look at while tuning and a held-out part")
    ap.add_argument("--key-noun", choices=["headline", "body"], default="headline",
                    help="where the entity query's noun comes from: the headline's rarest noun (default), or the "
                         "body's highest tf x idf noun (the words a plain body match scores best)")
    ap.add_argument("--misses", type=int, default=0, help="print up to N queries newswatch search ranks worst")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not (corpus / "ground-truth.json").is_file():
        print(f"bench_relevance: corpus not found at {corpus}; skipping")
        return 0
    warnings.filterwarnings("ignore")
    from _es import cluster

    from pipeline.index.names import IndexNames
    from pipeline.index.setup import ensure_indices
    from pipeline.index.writer import IndexWriter
    from pipeline.search import SearchQuery, search
    from pipeline.tagging.tagger import get_tagger

    started = time.perf_counter()
    docs, outcomes = load(corpus, args.limit, args.offset)
    print(f"{sum(outcomes.values())} pages from {corpus}: outcomes {outcomes}; "
          f"{len(docs)} articles extracted and tagged in {time.perf_counter() - started:.0f} s")
    items = known_items(get_tagger().nlp, docs, args.key_noun)
    with cluster("bench-relevance") as (es, settings):
        ensure_indices(es, settings)  # the explicit set-up step; the writer never creates indices
        report = IndexWriter(es, settings).write([d.tagged for d in docs])
        names = IndexNames(settings.index_prefix)
        es.indices.refresh(index=f"{names.articles},{names.claims}")
        from pipeline.index.features import detect_features

        english = detect_features(es).english_analyzer
        print(f"indexed {es.count(index=names.articles)['count']} articles ({len(report.failed)} failed); "
              f"English analysis on this cluster: {'yes' if english else 'no'}")
        ours: list[int | None] = []
        base: list[int | None] = []
        for item in items:
            resp = search(es, SearchQuery(text=item.query, size=TOP), settings)
            ours.append(rank([a.article_id for a in resp.articles], item.article_id))
            hits = es.search(index=names.articles, query={"match": {"text": item.query}}, size=TOP,
                             _source=False)["hits"]["hits"]
            base.append(rank([h["_id"] for h in hits], item.article_id))
    print(f"\n{len(items)} known-item queries (key noun from the {args.key_noun}); top {TOP}; "
          "ranks of the article each query was built from")
    print(f"{'query kind':<22} {'n':>4} {'MRR newswatch':>14} {'MRR match':>10} {'R@10 newswatch':>15} "
          f"{'R@10 match':>11}")
    for kind in [*dict.fromkeys(i.kind for i in items), "all"]:
        sel = [n for n, i in enumerate(items) if kind in ("all", i.kind)]
        (m1, r1), (m0, r0) = scores([ours[n] for n in sel]), scores([base[n] for n in sel])
        print(f"{kind:<22} {len(sel):>4} {m1:>14.3f} {m0:>10.3f} {r1:>15.3f} {r0:>11.3f}")
    (mrr, _), (mrr_base, _) = scores(ours), scores(base)
    met = mrr >= GOAL_MRR and mrr - mrr_base >= GOAL_GAIN
    print(f"\nMRR newswatch {mrr:.3f} vs plain match {mrr_base:.3f} (+{mrr - mrr_base:.3f}); goal MRR >= "
          f"{GOAL_MRR} and >= +{GOAL_GAIN}: {'met' if met else 'NOT met'}")
    if args.misses:
        worst = sorted(range(len(items)), key=lambda n: -(ours[n] or TOP + 1))[: args.misses]
        titles = {d.article_id: d.title for d in docs}
        for n in worst:
            print(f"  rank {ours[n] or '-':>2} (match {base[n] or '-':>2})  {items[n].kind:<20} "
                  f"{items[n].query!r}  <- {titles[items[n].article_id][:70]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
