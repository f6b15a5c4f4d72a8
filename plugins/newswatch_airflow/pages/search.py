"""Claim search (/newswatch/search): claims by words, speaker and certainty, through
`pipeline.search.api.search` (the same ranking as `newswatch search --claims`), sorted and paged on the server.

Each claim links to its article and to the feeds it came from; a claim without a resolved speaker reads
"unattributed" (with the words that name the speaker, when the tagger kept them); copies of one story
across outlets read "N outlets" when the search groups them (`hit.story`, when present).

Column headers sort through the search's `sort` (`SearchQuery.sort`): Claim (most relevant first, with words),
Speaker (A to Z, unattributed last), Article (newest or oldest first) and Check-worthy (most first).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from newswatch_airflow import backend
from newswatch_airflow.pages.html import (
    Column,
    Sorting,
    badge,
    href,
    link,
    notice,
    number,
    page,
    pager,
    plural,
    table,
    viewer,
    when,
)
from pipeline.alerts.model import HL_POST, HL_PRE
from pipeline.index.names import IndexNames
from pipeline.ops.claims import ClaimContext, claim_context
from pipeline.ops.labels import kind_label

router = APIRouter()

PER_PAGE = 25
MAX_OFFSET = 10_000  # SearchQuery.offset's bound (Elasticsearch's default result window)
# hedged claims stand out; certainty is not a health status, so no green or red
CERTAINTY_TONES = {"high": "idle", "medium": "idle", "low": "warn"}
ORDER_TEXT = {"newest": "newest first", "oldest": "oldest first", "checkworthiness": "most check-worthy first",
              "speaker": "by speaker from A to Z, unattributed last"}


def columns(words: bool) -> tuple[Column, ...]:
    """The table's columns; relevance sorts only a search with words (without, every claim matches alike)."""
    return (
        Column("Claim", "36%", "relevance" if words else "", first_desc=True, one_way=True),
        Column("Speaker", "13%", "speaker", one_way=True),
        Column("Kind", "11%"),
        Column("Article", "22%", "published", first_desc=True),
        Column("Feed", "10%"),
        Column("Check-worthy", "8%", "checkworthiness", numeric=True, first_desc=True, one_way=True),
    )


def sort_of(sort: str, order: str, words: bool) -> tuple[str, str, bool]:
    """(the search's sort key, the column it shows on, descending) for the page's `sort` and `order`; a missing
    or unknown column is the search's default: relevance, which is newest first without words."""
    if sort == "published":
        return ("oldest", "published", False) if order == "asc" else ("newest", "published", True)
    if sort in ("speaker", "checkworthiness"):
        return sort, sort, sort == "checkworthiness"
    return ("relevance", "relevance", True) if words else ("relevance", "published", True)


def _form(q: str, speaker: str, certainty: str, keep: dict[str, str] | None = None) -> str:
    """The search form; `keep` (the chosen order) rides along as hidden fields, so a new search keeps it."""
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in (keep or {}).items() if v)
    options = "".join(f'<option value="{v}"{" selected" if v == certainty else ""}>{label}</option>'
                      for v, label in (("", "Any"), ("high", "High"), ("medium", "Medium"), ("low", "Low")))
    return ('<form class="filters" method="get" action="search" role="search">'
            f'<label>Words in the claim<input type="search" name="q" value="{escape(q)}" '
            'placeholder="e.g. North Korea artillery" autofocus></label>'
            f'<label>Speaker<input name="speaker" value="{escape(speaker)}" placeholder="e.g. Jens Stoltenberg">'
            f'</label><label>Certainty<select name="certainty">{options}</select></label>'
            f'<button type="submit">Search</button>{hidden}</form>')


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _outlets(hit: Any) -> str:
    """"N outlets" (or "N copies") for a claim whose story ran more than once (clustered search only)."""
    story = getattr(hit, "story", None)
    size = _field(story, "size") if story is not None else None
    if not isinstance(size, int) or size <= 1:
        return ""
    outlets = _field(story, "outlets")
    names = [str(o) for o in outlets] if isinstance(outlets, list | tuple) else []
    count = _field(story, "outlet_count")
    count = count if isinstance(count, int) else len(names) if names else 1
    text = f"{count} outlets" if count > 1 else f"{size} copies"
    tip = ", ".join(names[:20]) or f"{size} copies of this story"
    first = _field(story, "first_url")
    shown = link(first, text) if first else escape(text)
    return f'<div class="sub" title="{escape(tip)}">{shown}</div>'


def _claim_cell(hit: Any) -> str:
    text = hit.highlight or hit.text
    html = escape(text).replace(HL_PRE, "<mark>").replace(HL_POST, "</mark>")
    return f'<div class="clamp" title="{escape(hit.text)}">{html}</div>'


def _speaker_cell(hit: Any, context: ClaimContext | None) -> str:
    if hit.speaker:
        target = href("search", speaker=hit.speaker)
        return f'<a href="{escape(target)}" title="Claims by {escape(hit.speaker)}">{escape(hit.speaker)}</a>'
    mention = context.speaker_mention if context else ""
    said = f'<div class="sub" title="The words naming the speaker">“{escape(mention)}”</div>' if mention else ""
    return f'<span class="muted">unattributed</span>{said}'


def _kind_cell(hit: Any) -> str:
    certainty = hit.certainty or ""
    tone = CERTAINTY_TONES.get(certainty, "idle")
    level = badge(f"{certainty} certainty", tone) if certainty else ""
    return f"{escape(kind_label(hit.kind))}<div>{level}</div>"


def _article_cell(hit: Any, now: datetime) -> str:
    title = hit.title or hit.url or "untitled article"
    meta = " · ".join(x for x in (escape(hit.site or ""), when(hit.published_at, now) if hit.published_at else "") if x)
    return (f'<div class="clamp" style="-webkit-line-clamp:2">{link(hit.url, title)}</div>'
            + (f'<div class="sub clip">{meta}</div>' if meta else "") + _outlets(hit))


def _worth_cell(hit: Any) -> str:
    worth = hit.checkworthiness
    if not isinstance(worth, int | float):
        return '<span class="muted">—</span>'
    return f'<span title="Check-worthiness from 0 to 1, as the tagger scored the claim">{worth:.2f}</span>'


def _feed_cell(context: ClaimContext | None) -> str:
    if not context or not context.feed_ids:
        return '<span class="muted">—</span>'
    return "".join(f'<div class="clip"><a href="feeds/{escape(quote(f, safe=""))}" title="Feed {escape(f)}">'
                   f"{escape(f)}</a></div>"
                   for f in context.feed_ids[:3])


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = Query("", max_length=500), speaker: str = Query("", max_length=200),
                certainty: str = Query("", max_length=10), sort: str = Query("", max_length=40),
                order: str = Query("", max_length=4),
                page_no: int = Query(1, alias="page", ge=1, le=MAX_OFFSET // PER_PAGE)) -> HTMLResponse:
    certainty = certainty if certainty in CERTAINTY_TONES else ""
    search_sort, column, descending = sort_of(sort, order, bool(q.strip()))
    chosen = search_sort != "relevance"  # links keep a chosen order; the default needs no parameters
    keep = {"sort": column, "order": "desc" if descending else "asc"} if chosen else {}
    form = _form(q, speaker, certainty, keep)
    user = viewer(request)
    if not q.strip() and not speaker.strip() and not certainty:
        tips = ("Search the claims newswatch found in the articles: words (<code>artillery shells</code>), "
                "<code>\"exact phrases\"</code>, <code>AND</code>/<code>OR</code>/<code>NOT</code>, or "
                "fields such as <code>kind:assertion</code>; narrow by speaker and certainty.")
        return page("Claim search", form + f'<p class="sub">{tips}</p>', current="search", user=user)

    from pipeline.search.api import search
    from pipeline.search.query import SearchError, SearchQuery

    settings = backend.settings()
    es = backend.client(settings)
    query = SearchQuery(text=q.strip(), speakers=[speaker] if speaker.strip() else [], certainty=certainty or None,
                        claims=True, size=PER_PAGE, offset=(page_no - 1) * PER_PAGE, facets=False,
                        highlight_tags=(HL_PRE, HL_POST), sort=search_sort)
    try:
        resp = search(es, query, settings)
        contexts = claim_context(es, IndexNames(settings.index_prefix).claims, [h.claim_id for h in resp.claims])
    except SearchError as exc:
        if "does not exist yet" in str(exc):  # a fresh installation: nothing indexed, nothing wrong
            return page("Claim search", form + notice(f"<b>Nothing to search yet.</b> {escape(str(exc))}.",
                                                      info=True), current="search", user=user)
        return page("Claim search", form + notice(f"<b>This search cannot run.</b> {escape(str(exc))}"),
                    current="search", user=user, status=400)
    except backend.ES_ERRORS as exc:
        message = (f"<b>Search is unavailable right now.</b> {escape(backend.problem(exc, settings))}. "
                   "Check that Elasticsearch is running (<code>newswatch es status</code> on this machine, "
                   "<code>docker compose ps elasticsearch</code> in the Compose stack), then search again.")
        return page("Claim search", form + notice(message), current="search", user=user, status=503)
    now = datetime.now(UTC)
    rows = [[_claim_cell(h), _speaker_cell(h, contexts.get(h.claim_id)), _kind_cell(h), _article_cell(h, now),
             _feed_cell(contexts.get(h.claim_id)), _worth_cell(h)] for h in resp.claims]
    # with story clustering, copies of one statement are one row: pages count rows, not claims
    rows_total = getattr(resp, "stories", None)
    rows_total = rows_total if isinstance(rows_total, int) else resp.total
    pages = max(1, min(-(-rows_total // PER_PAGE), MAX_OFFSET // PER_PAGE))
    found = plural(resp.total, "claim")
    grouped = f", {number(rows_total)} once copies across outlets are grouped" if rows_total != resp.total else ""
    default = "most relevant first" if q.strip() else "newest first"
    advice = getattr(resp, "notice", "")
    params = {"q": q, "speaker": speaker, "certainty": certainty}
    body = (form + f'<p class="sub" id="found">{found} found{grouped}, {ORDER_TEXT.get(search_sort, default)}.</p>'
            + (f'<p class="sub">{escape(advice)}</p>' if isinstance(advice, str) and advice else "")
            + table(columns(bool(q.strip())), rows, sorting=Sorting("search", column, descending, params),
                    empty="No claim matches. Try fewer words or another spelling of the name.")
            + pager("search", page_no, pages, found, {**params, **keep}))
    return page("Claim search", body, current="search", user=user)

