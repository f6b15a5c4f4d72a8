"""page_metadata and byline give what trafilatura's own extract_metadata / extract_author give."""

import json
from copy import deepcopy
from pathlib import Path

import pytest
from trafilatura import extract_metadata, load_html
from trafilatura.metadata import extract_author

from pipeline.extract.language import _STOPWORDS, _WORD, guess_language
from pipeline.extract.metadata import FIELDS, byline, page_metadata

DATES = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z",
         "max_date": "2026-11-21"}
URL = "https://coast.example/news/harbour"
CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "article-extraction-benchmark"
TEXT = "<p>The council approved the harbour expansion on Tuesday after months of talks with residents.</p>"


def doc(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html lang='en'><head><title>Harbour plan | Coast Times</title>{head}</head><body>{body}</body></html>"


BYLINE_PAGES = {
    "class byline": doc(f'<div class="byline">By Jane Doe</div>{TEXT}'),
    "rel author in a sidebar, byline in the article": doc(
        f'<div class="sidebar"><a rel="author" href="/ann">Ann Sidebar</a></div><p class="writer">Jane Doe</p>{TEXT}'),
    "candidate holding a pruned <time>": doc(f'<span class="author-name">Jane Doe <time>18 Nov</time> Reporter</span>{TEXT}'),
    "<author> element": doc(f"<author>Jane Doe</author>{TEXT}"),
    "too long first candidate": doc(f'<div class="author">{"x" * 130}</div><span id="Author-box">Jane Doe</span>{TEXT}'),
    "only inside comments": doc(f'<div id="comments"><span class="author">Commenter Name</span></div>{TEXT}'),
    "itemprop with nested spans": doc(f'<div itemprop="author"><span>Jane</span> <span>Doe</span></div>{TEXT}'),
    "data-component": doc(f'<div data-component="BylineBlock"><a href="/jane">Jane Doe</a></div>{TEXT}'),
    "figure caption credit only": doc(f'<figure><figcaption class="byline">Photo: Sam Lens</figcaption></figure>{TEXT}'),
    "no byline": doc(TEXT),
}

META_PAGES = {
    **BYLINE_PAGES,
    "meta tags": doc(TEXT, '<meta name="author" content="Jane Doe"><meta name="keywords" content="harbour, council">'
                           '<meta property="og:site_name" content="Coast Times"><link rel="canonical" href="/news/harbour">'
                           '<meta property="article:published_time" content="2026-11-18T09:30:00+00:00">'),
    "json-ld": doc(TEXT, '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Harbour plan", '
                         '"author": {"@type": "Person", "name": "Jane Doe"}, "articleSection": "Local", '
                         '"datePublished": "2026-11-18"}</script>'),
    "category and tag links": doc('<div class="entry-meta"><a href="/category/politics/">Politics</a></div>'
                                  f'{TEXT}<div class="tags"><a href="/tag/harbour/">harbour</a> <a href="/tags/x/">x</a></div>'),
    "section meta, no category links": doc(TEXT, '<meta property="article:section" content="Local news">'),
    "links elsewhere": doc(f'<nav><a href="/world/">World</a></nav>{TEXT}<div class="row"><a href="/about">About</a></div>'),
}


@pytest.mark.parametrize("html", BYLINE_PAGES.values(), ids=BYLINE_PAGES.keys())
def test_byline_is_trafilaturas_extract_author(html):
    tree = load_html(html)
    assert byline(tree) == extract_author(tree)


@pytest.mark.parametrize("html", META_PAGES.values(), ids=META_PAGES.keys())
def test_page_metadata_is_trafilaturas_extract_metadata(html):
    tree = load_html(html)
    before = deepcopy(tree)
    reference = extract_metadata(deepcopy(tree), URL, dict(DATES))
    assert page_metadata(tree, URL, DATES) == {f: getattr(reference, f, None) for f in FIELDS}
    assert load_html(html).xpath("count(//*)") == tree.xpath("count(//*)") == before.xpath("count(//*)")  # untouched


@pytest.mark.skipif(not (CORPUS / "ground-truth.json").is_file(), reason="benchmark corpus not present")
def test_page_metadata_on_real_pages():
    import gzip

    from pipeline.fetch.charset import decode_body

    ids = sorted(json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8")))[:40]
    for page_id in ids:
        tree = load_html(decode_body(gzip.decompress((CORPUS / "html" / f"{page_id}.html.gz").read_bytes()))[0])
        reference = extract_metadata(deepcopy(tree), None, dict(DATES))
        assert page_metadata(tree, None, DATES) == {f: getattr(reference, f, None) for f in FIELDS}, page_id
        assert byline(tree) == extract_author(tree), page_id


def _guess_language_reference(text: str, min_hits: int = 5) -> str | None:
    """The vote as first written: every word against every stopword list."""
    from collections import Counter

    votes: Counter[str] = Counter()
    for w in (w.lower() for w in _WORD.findall(text[:20_000])):
        for lang, stops in _STOPWORDS.items():
            if w in stops:
                votes[lang] += 1
    if not votes:
        return None
    lang, hits = votes.most_common(1)[0]
    return lang if hits >= min_hits else None


@pytest.mark.parametrize("text", [
    "The council said that it was not in favour of the plan, and the mayor agreed with it on Tuesday.",
    "Der Stadtrat hat die Pläne für den Hafen beschlossen, und die Bürger sind nicht zufrieden mit der Entscheidung.",
    "Le conseil a approuvé le plan pour le port, et les habitants ne sont pas contents de la décision.",
    "de la de la en el que que de",  # es/fr/nl/pt share words: a tie, decided by first vote
    "O conselho e a cidade: que de em um uma para com não do da dos das no na",
    "Numbers 123 and ÉCOLE élève İstanbul", "",
])
def test_guess_language_votes_as_before(text):
    assert guess_language(text) == _guess_language_reference(text)
