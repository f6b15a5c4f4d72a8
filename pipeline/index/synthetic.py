"""Build TaggedArticles without running the tagger: for tests and the index/search benchmarks.

`tagged_article` turns a text plus the entities and claims you name into a valid TaggedArticle (spans
are located in the text, so `text[start:end] == span.text` holds). `recombined_corpus` makes any number
of distinct articles by recombining paragraphs of real texts, with entities and claims attached.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.outcomes import Outcome
from pipeline.records import Article, TaggedArticle, article_id_for
from pipeline.tagging.schema import Certainty, Claim, Entity, Mention, Speaker, Tagger, TagResult

TAGGER = Tagger(name="newswatch", version="synthetic-1")


@dataclass(frozen=True)
class EntitySpec:
    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimSpec:
    text: str
    speaker: EntitySpec | None = None
    certainty: str = "high"
    about: tuple[str, ...] = ()
    kind: str = "direct_quote"
    cues: tuple[str, ...] = ()


def _mentions(text: str, names: list[str]) -> list[Mention]:
    out: list[Mention] = []
    for name in names:
        for m in re.finditer(re.escape(name), text):
            out.append(Mention(start=m.start(), end=m.end(), text=name))
    return sorted(out, key=lambda m: m.start)


def tagged_article(url: str, text: str, *, title: str | None = None, site: str = "example.org",
                   entities: list[EntitySpec] | None = None, claims: list[ClaimSpec] | None = None,
                   published_at: datetime | None = None, feed_id: str = "test-feed",
                   tagger_version: str = TAGGER.version) -> TaggedArticle:
    entities = entities or []
    ents = [Entity(id=e.id, name=e.name, type=e.type, aliases=list(e.aliases),  # type: ignore[arg-type]
                   mentions=_mentions(text, [e.name, *e.aliases])) for e in entities]
    out_claims: list[Claim] = []
    for c in claims or []:
        start = text.find(c.text)
        if start < 0:
            raise ValueError(f"claim text not in the article: {c.text[:60]!r}")
        speaker = None
        if c.speaker is not None:
            s_start = max(text.find(c.speaker.name), 0)
            speaker = Speaker(name=c.speaker.name, entity_id=c.speaker.id, mention=c.speaker.name,
                              start=s_start, end=s_start + len(c.speaker.name))
        claim_id = hashlib.sha256(f"{start}:{c.text}".encode()).hexdigest()[:16]
        out_claims.append(Claim(id=claim_id, text=c.text, start=start, end=start + len(c.text),
                                kind=c.kind, speaker=speaker,  # type: ignore[arg-type]
                                certainty=Certainty(level=c.certainty, cues=list(c.cues)),  # type: ignore[arg-type]
                                checkworthiness=0.5, about=list(c.about)))
    article = Article(article_id=article_id_for(url), url=url, canonical_url=url, outcome=Outcome.success(),
                      feed_ids=[feed_id], feed_names=[feed_id], site=site, domain=site, title=title, text=text,
                      published_at=published_at, fetched_at=datetime.now(UTC), language="en",
                      content_hash=hashlib.sha256(text.encode()).hexdigest())
    return TaggedArticle(article=article,
                         tags=TagResult(tagger=Tagger(name="newswatch", version=tagger_version), entities=ents,
                                        claims=out_claims))


POOL = [
    EntitySpec("gpe:north-korea", "North Korea", "GPE"),
    EntitySpec("gpe:united-states", "United States", "GPE"),
    EntitySpec("gpe:russia", "Russia", "GPE"),
    EntitySpec("gpe:ukraine", "Ukraine", "GPE"),
    EntitySpec("gpe:china", "China", "GPE"),
    EntitySpec("org:nato", "NATO", "ORG"),
    EntitySpec("org:united-nations", "United Nations", "ORG"),
    EntitySpec("org:european-union", "European Union", "ORG"),
    EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON"),
    EntitySpec("person:vladimir-putin", "Vladimir Putin", "PERSON"),
    EntitySpec("person:antonio-guterres", "Antonio Guterres", "PERSON"),
    EntitySpec("person:ursula-von-der-leyen", "Ursula von der Leyen", "PERSON"),
    EntitySpec("person:jane-doe", "Jane Doe", "PERSON"),
    EntitySpec("person:john-smith", "John Smith", "PERSON"),
]
CERTAINTIES = ("high", "medium", "low")
SITES = ("example.org", "daily.example", "wire.example", "tribune.example", "herald.example")


def corpus_paragraphs(corpus_dir: Path | None = None, limit_docs: int | None = None) -> list[str]:
    """Paragraphs of the real articles in ../shared/corpus (ground-truth texts), or [] when absent."""
    base = corpus_dir or Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
    truth = base / "article-extraction-benchmark" / "ground-truth.json"
    if not truth.is_file():
        return []
    data = json.loads(truth.read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    for n, item in enumerate(data.values()):
        if limit_docs is not None and n >= limit_docs:
            break
        body = item.get("articleBody", "") if isinstance(item, dict) else ""
        paragraphs.extend(p.strip() for p in body.split("\n") if len(p.strip()) > 80)
    return paragraphs


FALLBACK_PARAGRAPHS = [
    "The committee met on Tuesday to review the budget, which has grown by 12 percent since last year.",
    "Officials said the new rules would take effect in March and apply to all imports of steel.",
    "Analysts expect prices to rise further as supply remains tight across the region.",
    "The company reported a quarterly loss of 40 million dollars, blaming higher energy costs.",
    "Residents were evacuated after heavy rain flooded several streets near the river.",
    "The minister rejected the proposal, calling it unrealistic and too expensive to implement.",
    "Negotiations are expected to continue next week, according to people familiar with the talks.",
    "The report found that emissions fell by 3 percent, the first decline in a decade.",
]


def recombined_corpus(n: int, seed: int = 7, paragraphs: list[str] | None = None) -> Iterator[TaggedArticle]:
    """`n` distinct synthetic articles built from real paragraphs, each with 2-5 entities and 1-4 claims."""
    rng = random.Random(seed)
    paras = paragraphs if paragraphs is not None else (corpus_paragraphs() or FALLBACK_PARAGRAPHS)
    persons = [e for e in POOL if e.type == "PERSON"]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(n):
        chosen = rng.sample(POOL, k=rng.randint(2, 5))
        speaker = rng.choice(persons)
        body = rng.sample(paras, k=min(len(paras), rng.randint(3, 6)))
        quotes = [f'"{p.split(". ")[0].rstrip(".")}," {speaker.name} said.' for p in body[: rng.randint(1, 3)]]
        lead = f"{' and '.join(e.name for e in chosen)} were at the centre of events on day {i}."
        text = "\n\n".join([lead, *body, *quotes])
        claims = [ClaimSpec(q[1:q.index('," ')], speaker=speaker, certainty=rng.choice(CERTAINTIES),
                            about=tuple(e.id for e in chosen[:2])) for q in quotes]
        if speaker not in chosen:
            chosen.append(speaker)
        yield tagged_article(f"https://{SITES[i % len(SITES)]}/news/{seed}/{i}", text,
                             title=body[0][:90], site=SITES[i % len(SITES)], entities=chosen, claims=claims,
                             published_at=start + timedelta(hours=i % (24 * 365)))
