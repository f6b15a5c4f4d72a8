"""Page metadata from an already parsed tree: trafilatura's own metadata steps, minus the work whose
result newswatch never reads.

`trafilatura.extract_metadata` costs more per page than trafilatura's text extraction itself leaves
room for: it deep-copies and prunes the whole page to look for a byline, runs a dozen whole-page
XPaths for category and tag links, and hunts for a license. Here the same steps run in the same
order on the same tree, with three changes that do not change any field newswatch keeps:

- the byline search (`extract_author`: copy the page, prune comments, sidebars, figures..., then try
  three XPath lists in turn) becomes one walk over the elements that applies the same tests in
  Python, and skips the elements pruning would remove. Where pruning would change the text of a
  candidate (it contains a pruned element), or the page has an odd `<rel>` element, trafilatura's
  own `extract_author` runs instead;
- the category/tag link search runs only when some link on the page points to a /category/ or /tag/
  path (the search keeps only such links);
- no license search (newswatch does not store it).

`tests/unit/extract/test_metadata.py` checks the result against `trafilatura.extract_metadata`.
"""

from __future__ import annotations

import re
from typing import Any

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.utils import line_processing, trim

FIELDS = ("title", "author", "url", "description", "sitename", "date", "categories", "tags", "image",
          "pagetype", "language")
_CATSTAGS_HREF = re.compile(r"/(?:categor|tag)(?:y|ies|s)?/")  # the links extract_catstags keeps
_SECTION_META = XPath('.//head//meta[@property="article:section" or contains(@name, "subject")][@content]')


def page_metadata(tree: HtmlElement, url: str | None, date_params: dict[str, Any]) -> dict[str, Any]:
    """The metadata fields newswatch uses (FIELDS), as `trafilatura.extract_metadata` finds them.
    Does not modify the tree."""
    doc = examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None
    try:
        doc = extract_meta_json(tree, doc)
    except Exception:  # trafilatura's JSON-LD reader chokes on some pages; the meta tags still count
        pass
    if not doc.title:
        doc.title = extract_title(tree)
    if not doc.author:
        doc.author = byline(tree)
    if not doc.url:
        doc.url = extract_url(tree, url)
    doc.date = find_date(tree, **{**date_params, "url": doc.url})
    if not doc.sitename:
        doc.sitename = extract_sitename(tree)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url and (m := META_URL.match(doc.url)):
        doc.sitename = m[1]
    need_categories, need_tags = not doc.categories, not doc.tags
    if need_categories or need_tags:
        linked = any(_CATSTAGS_HREF.search(a.get("href", "")) for a in tree.iter("a"))
        if need_categories:
            # without such links only the meta-tag fallback can answer: let trafilatura run it
            doc.categories = extract_catstags("category", tree) if linked else _section_meta(tree)
        if need_tags and linked:
            doc.tags = extract_catstags("tag", tree)
    doc.clean_and_trim()
    return {name: getattr(doc, name, None) for name in FIELDS}


# trafilatura.xpaths.AUTHOR_XPATHS (levels 0, 1, 2) and AUTHOR_DISCARD_XPATHS, as Python tests
_L0_TAGS = frozenset("a address div link p span strong".split())
_L0_CLASS = re.compile("author-?name|AuthorName|authorName")
_L1_TAGS = frozenset("a div h3 h4 p span".split())
_L1_ID = re.compile("author|zuozhe|bianji|xiaobian")
_L1_CLASS = re.compile("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_L2_ID = re.compile("[Aa]uthor")
_L2_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset("a div section span".split())
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile("^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
                            "|article-(?:share|support)|print|category|meta-date|meta-reviewer")
_BYLINE_MAX = 120  # extract_author's len_limit


def byline(tree: HtmlElement) -> str | None:
    """`trafilatura.metadata.extract_author(tree)`, in one walk and without copying the page."""
    levels: tuple[list[HtmlElement], ...] = ([], [], [])
    pruned: list[HtmlElement] = []
    for el in tree.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag == "rel":  # AUTHOR_XPATHS test a child <rel> element's text: leave that to trafilatura
            return extract_author(tree)
        attrib = el.attrib
        if not attrib:
            if tag == "author":
                levels[0].append(el)
            elif tag in ("time", "figure"):
                pruned.append(el)
            continue
        get = attrib.get
        cls, id_, itemprop, component = get("class"), get("id"), get("itemprop"), get("data-component")
        if tag in ("time", "figure") or (tag in _DISCARD_TAGS and (
                id_ == "comments" or cls in ("comments", "title", "date")
                or (id_ is not None and _DISCARD_ID.search(id_)) or (cls is not None and _DISCARD_CLASS.search(cls))
                or (component is not None and "Figure" in component))):
            pruned.append(el)
        if tag == "author" or (tag in _L0_TAGS and (
                get("rel") == "author" or id_ == "author" or cls == "author" or itemprop == "author name"
                or get("data-testid") in ("AuthorCard", "AuthorURL") or (cls is not None and _L0_CLASS.search(cls)))):
            levels[0].append(el)
        if tag in _L1_TAGS and (
                cls in ("byline", "username", "byl", "BBL") or (itemprop is not None and "author" in itemprop)
                or (id_ is not None and _L1_ID.search(id_)) or (cls is not None and _L1_CLASS.search(cls))):
            levels[1].append(el)
        if ((component is not None and "Byline" in component) or (itemprop is not None and "author" in itemprop)
                or (id_ is not None and _L2_ID.search(id_)) or (cls is not None and _L2_CLASS.search(cls))):
            levels[2].append(el)
    if not any(levels):
        return None
    gone: set[HtmlElement] = set()  # what pruning removes
    holds_pruned: set[HtmlElement] = set()  # elements whose text pruning changes
    for el in pruned:
        if el not in gone:
            gone.update(el.iter())
            holds_pruned.update(el.iterancestors())
    for candidates in levels:
        for el in candidates:
            if el in gone:
                continue
            if el in holds_pruned:
                return extract_author(tree)
            content = trim(" ".join(el.itertext()))
            if content and 2 < len(content) < _BYLINE_MAX:
                return normalize_authors(None, content)
    return None


def _section_meta(tree: HtmlElement) -> list[str]:
    """extract_catstags("category", ...) on a page without category links: its meta-tag fallback."""
    found = [m.attrib["content"] for m in _SECTION_META(tree)]
    return [r for r in dict.fromkeys(line_processing(x) for x in found if x) if r]
