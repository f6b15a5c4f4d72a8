"""Feed health (/newswatch/feeds) and one feed's detail (/newswatch/feeds/{feed_id}).

The list page: counts per health class, articles and failures per hour over 48 hours, failures by
reason over time, and every feed's state sorted and paged on the server. The detail page: the feed's
state, its own volume chart, its recent failure events (polls, downloads, extraction) and articles.
Each page is one `_msearch` round trip (pipeline.ops).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from newswatch_airflow import backend
from newswatch_airflow.pages.charts import reasons_chart, volume_chart
from newswatch_airflow.pages.errors import unavailable
from newswatch_airflow.pages.html import (
    Column,
    Sorting,
    badge,
    clipped,
    due,
    due_cell,
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
    when_cell,
)
from pipeline.feeds.state import RECENT_POLLS, FeedState
from pipeline.index.names import IndexNames
from pipeline.ops.feeds import (
    FeedDetail,
    FeedQuery,
    feed_articles_request,
    feed_events_request,
    feed_list_request,
    feed_state_request,
    health_of,
    parse_feed_detail,
    parse_feed_list,
)
from pipeline.ops.labels import duration, reason_label, stage_label, status_label
from pipeline.ops.run import msearch
from pipeline.ops.volume import Volume, Window, articles_request, failures_request, parse_volume

router = APIRouter()

HOURS = 48
PER_PAGE = 50
EVENTS_PER_PAGE = 25
TONES = {"ok": "ok", "failing": "warn", "disabled": "bad", "new": "idle"}
SHOW_LABELS = {"all": "All", "failing": "Failing", "disabled": "Disabled", "ok": "OK", "new": "Not polled yet"}

FEED_COLUMNS = (
    Column("Feed", "23%", "feed"),
    Column("Status", "11%", "status"),
    Column("Problem", "18%"),
    Column("Last poll", "11%", "last_poll", first_desc=True),
    Column("Last success", "11%", "last_success", first_desc=True),
    Column("Failures in a row", "8%", "failures", numeric=True, first_desc=True),
    Column("Next poll", "10%", "next_poll"),
    Column("New articles", "8%", "new_articles", numeric=True, first_desc=True),
)


def status_badge(state: FeedState) -> str:
    health = health_of(state)
    text = "Disabled" if health == "disabled" else status_label(state.status)
    tip = f"HTTP {state.http_status}" if state.http_status else ""
    return badge(text, TONES[health], tip)


def problem_text(state: FeedState) -> str:
    if state.disabled:
        return state.disabled_reason or state.reason or "disabled"
    if state.consecutive_failures or state.status not in ("ok", "not_modified", "new"):
        return state.reason
    return state.parse_warning or ""


def _feed_row(state: FeedState, now: datetime) -> list[str]:
    url = state.permanent_url or state.url
    feed = (f'<a href="feeds/{escape(quote(state.feed_id, safe=""))}" title="Details of {escape(state.feed_id)}">'
            f"{escape(state.feed_id)}</a>" + (f'<div class="sub">{clipped(url)}</div>' if url else ""))
    http = f'<div class="sub">HTTP {state.http_status}</div>' if state.http_status and state.http_status >= 400 else ""
    next_poll = ('<span class="muted">not while disabled</span>' if state.disabled
                 else due_cell(state.next_poll_at, now, empty="next run"))
    return [feed, status_badge(state) + http, clipped(problem_text(state), lines=2),
            when_cell(state.last_polled_at, now, empty="never"), when_cell(state.last_success_at, now, empty="never"),
            number(state.consecutive_failures), next_poll, number(state.total_new_entries)]


def _cards(counts: dict[str, int], volume: Volume, params: dict[str, Any]) -> str:
    articles, failures = volume.last_hours(24)
    out = []
    for show, tone in (("all", ""), ("ok", "ok"), ("failing", "warn"), ("disabled", "bad"), ("new", "")):
        label = "Feeds" if show == "all" else SHOW_LABELS[show]
        target = href("feeds", **{**params, "show": "" if show == "all" else show})
        out.append(f'<a class="card {tone}" href="{escape(target)}#feeds"><b>{number(counts.get(show, 0))}</b>'
                   f"<span>{escape(label)}</span></a>")
    out.append(f'<div class="card"><b>{number(articles)}</b><span>Articles, last 24 h</span></div>')
    out.append(f'<div class="card {"bad" if failures else ""}"><b>{number(failures)}</b>'
               "<span>Failures, last 24 h</span></div>")
    return f'<div class="cards">{"".join(out)}</div>'


def _reasons_table(volume: Volume, now: datetime) -> str:
    columns = (Column("Reason", "40%"), Column("Last 24 h", "15%", numeric=True),
               Column(f"Last {volume.window.hours} h", "15%", numeric=True), Column("Last seen", "30%"))
    rows = [[escape(reason_label(r.stage, r.status)), number(r.last_hours(24)), number(r.total),
             when_cell(r.last_at, now)] for r in volume.reasons]
    return table(columns, rows, empty=f"No failures in the last {volume.window.hours} hours.")


def _tabs(counts: dict[str, int], q: FeedQuery) -> str:
    keep = {"q": q.text, "sort": q.sort if q.sort != "feed" else "", "order": "desc" if q.descending else ""}
    out = []
    for show, label in SHOW_LABELS.items():
        current = ' aria-current="true"' if q.show == show else ""
        target = href("feeds", **keep, show="" if show == "all" else show)
        out.append(f'<a href="{escape(target)}#feeds"{current}>{escape(label)} ({number(counts.get(show, 0))})</a>')
    return f'<div class="tabs">{"".join(out)}</div>'


def _filter_form(q: FeedQuery) -> str:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in
                     (("show", q.show if q.show != "all" else ""), ("sort", q.sort if q.sort != "feed" else ""),
                      ("order", "desc" if q.descending else "")) if v)
    return (f'<form class="filters" method="get" action="feeds">{hidden}<label>Feed id or URL contains'
            f'<input type="search" name="q" value="{escape(q.text)}" placeholder="e.g. reuters"></label>'
            '<button type="submit">Filter</button></form>')


@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(request: Request, sort: str = Query("feed", max_length=40), order: str = Query("asc", max_length=4),
               page_no: int = Query(1, alias="page", ge=1, le=10_000), show: str = Query("all", max_length=20),
               q: str = Query("", max_length=200)) -> HTMLResponse:
    now = datetime.now(UTC)
    settings = backend.settings()
    names = IndexNames(settings.index_prefix)
    fq = FeedQuery.parse(sort=sort, order=order, page=page_no, per_page=PER_PAGE, show=show, text=q)
    window = Window.last(HOURS, now)
    try:
        feeds_resp, articles_resp, failures_resp = msearch(backend.client(settings), [
            (names.feeds, feed_list_request(fq)), (names.articles, articles_request(window)),
            (names.events, failures_request(window))])
    except backend.ES_ERRORS as exc:
        return unavailable("Feed health", exc, settings, request, current="feeds")
    feeds = parse_feed_list(fq, feeds_resp)
    volume = parse_volume(window, articles_resp, failures_resp)
    params = {"q": fq.text, "show": fq.show if fq.show != "all" else ""}
    sorting = Sorting("feeds", fq.sort, fq.descending, params)
    page_params = {**params, "sort": fq.sort if fq.sort != "feed" else "", "order": "desc" if fq.descending else ""}
    shown = f"{SHOW_LABELS[fq.show].lower()} feeds" if fq.show != "all" else "feeds"
    total_text = plural(feeds.total, "feed") if fq.show == "all" else f"{number(feeds.total)} {shown}"
    empty = ("No feed state yet: run the feeds_sync DAG (or news_ingest) to load the feed list."
             if not feeds.counts.get("all") and not fq.text else "No feed matches this filter.")
    body = (_cards(feeds.counts, volume, params)
            + f"<h2>Articles and failures per hour, last {HOURS} hours</h2>" + volume_chart(volume)
            + f"<h2>Failures by reason, last {HOURS} hours</h2>" + reasons_chart(volume)
            + _reasons_table(volume, now)
            + '<h2 id="feeds">Feeds</h2>' + _tabs(feeds.counts, fq) + _filter_form(fq)
            + table(FEED_COLUMNS, [_feed_row(s, now) for s in feeds.states], sorting=sorting, empty=empty)
            + pager("feeds", fq.page, feeds.pages, total_text, page_params))
    return page("Feed health", body, current="feeds", user=viewer(request))


EVENT_COLUMNS = (
    Column("When", "15%"),
    Column("Stage", "10%"),
    Column("Problem", "12%"),
    Column("Details", "31%"),
    Column("Article", "26%"),
    Column("HTTP", "6%", numeric=True),
)
ARTICLE_COLUMNS = (
    Column("Fetched", "16%"),
    Column("Title", "46%"),
    Column("Site", "14%"),
    Column("Published", "16%"),
    Column("Claims", "8%", numeric=True),
)


def _facts(state: FeedState, now: datetime) -> str:
    rows: list[tuple[str, str]] = [
        ("Status", status_badge(state) + (f" <span class='sub'>HTTP {state.http_status}</span>"
                                          if state.http_status else "")),
        ("Feed URL", link(state.url) if state.url else '<span class="muted">unknown</span>'),
    ]
    if state.permanent_url and state.permanent_url != state.url:
        rows.append(("Moved permanently to", link(state.permanent_url)))
    if problem_text(state):
        rows.append(("Problem", escape(problem_text(state))))
    if state.parse_warning and state.parse_warning != problem_text(state):
        rows.append(("Feed format warning", escape(state.parse_warning)))
    rows += [
        ("Last poll", when(state.last_polled_at, now, empty="never")),
        ("Last success", when(state.last_success_at, now, empty="never")),
        ("Last new articles", when(state.last_new_entries_at, now, empty="never")),
        ("Next poll", '<span class="muted">not while disabled</span>' if state.disabled
         else due(state.next_poll_at, now, empty="next run")),
    ]
    if state.retry_after_until and state.retry_after_until > now:
        rows.append(("Server asked to wait until", when(state.retry_after_until, now)))
    interval = duration(state.interval)
    if interval:
        hint = f" (the feed suggests {duration(state.hint_interval)})" if state.hint_interval else ""
        rows.append(("Polled every", escape(interval + hint)))
    rows += [
        ("Failures in a row", number(state.consecutive_failures)),
        ("Polls", number(state.total_polls)),
        ("New articles found", number(state.total_new_entries)),
        ("Entries at the last poll", number(state.last_entry_count)),
    ]
    return '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


POLL_COLUMNS = (
    Column("When", "15%"),
    Column("Outcome", "14%"),
    Column("HTTP", "7%", numeric=True),
    Column("Details", "64%"),
)
POLLS_SHOWN = 20


def _poll_rows(detail: FeedDetail, now: datetime) -> list[list[str]]:
    """The feed's recent polls, newest first (kept in its state); for a state from before they were kept,
    the last poll when it worked, then the failed polls (events)."""
    rows = []
    state = detail.state
    if state and state.recent_polls:
        for p in reversed(state.recent_polls):
            ok = p.status in ("ok", "not_modified")
            found = (f"{plural(p.new_entries, 'new entry', 'new entries')} of {p.entries_seen}" if p.status == "ok"
                     else p.reason or "")
            rows.append([when_cell(p.at, now), badge(status_label(p.status), "ok" if ok else "bad"),
                         str(p.http_status or ""), clipped(found, lines=2) if not ok else escape(found)])
        return rows
    if state and state.last_polled_at and not state.consecutive_failures and state.status != "new":
        found = f"{plural(state.last_entry_count, 'entry', 'entries')} in the feed"
        rows.append([when_cell(state.last_polled_at, now), badge(status_label(state.status), "ok"),
                     str(state.http_status or ""), escape(found)])
    for e in detail.failed_polls:
        rows.append([when_cell(e.at, now), badge(status_label(e.status), "bad"), str(e.http_status or ""),
                     clipped(e.reason, lines=2)])
    return rows


@router.get("/feeds/{feed_id}", response_class=HTMLResponse)
def feed_page(request: Request, feed_id: str, events_page: int = Query(1, ge=1, le=400)) -> HTMLResponse:
    now = datetime.now(UTC)
    settings = backend.settings()
    names = IndexNames(settings.index_prefix)
    window = Window.last(HOURS, now)
    title = f"Feed {feed_id}"
    back = '<p><a href="../feeds">‹ All feeds</a></p>'
    offset = (events_page - 1) * EVENTS_PER_PAGE
    try:
        state, polls, events, articles, volume_a, volume_f = msearch(backend.client(settings), [
            (names.feeds, feed_state_request(feed_id)),
            (names.events, feed_events_request(feed_id, POLLS_SHOWN, polls=True)),
            (names.events, feed_events_request(feed_id, EVENTS_PER_PAGE, offset)),
            (names.articles, feed_articles_request(feed_id)),
            (names.articles, articles_request(window, feed_id)), (names.events, failures_request(window, feed_id))])
    except backend.ES_ERRORS as exc:
        return unavailable(title, exc, settings, request, root="../", current="feeds", before=back)
    detail = parse_feed_detail(feed_id, state, polls, events, articles)
    volume = parse_volume(window, volume_a, volume_f)
    if detail.state is None and not (detail.failed_polls or detail.events or detail.articles):
        return page(title, back + notice(f"No feed with the id <b>{escape(feed_id)}</b> is known.", info=True),
                    current="feeds", root="../", user=viewer(request), status=404)
    facts = (_facts(detail.state, now) if detail.state else
             notice("This feed has no state any more (removed from the feed list?); its history is below.",
                    info=True))
    event_rows = [[when_cell(e.at, now), escape(stage_label(e.stage)), badge(status_label(e.status), "bad"),
                   clipped(e.reason, lines=2), f'<div class="clip">{link(e.url)}</div>' if e.url else "",
                   str(e.http_status or "")] for e in detail.events]
    event_pages = max(1, -(-detail.events_total // EVENTS_PER_PAGE))
    article_rows = [[when_cell(a.fetched_at, now), f'<div class="clamp">{link(a.url, a.title or a.url)}</div>',
                     clipped(a.site), when_cell(a.published_at, now, empty="unknown"), number(a.claim_count)]
                    for a in detail.articles]
    older = (f" (the {POLLS_SHOWN} newest of {number(detail.failed_polls_total)})"
             if detail.failed_polls_total > POLLS_SHOWN else "")
    polls_note = (f"The last {RECENT_POLLS} polls, newest first; older ones are counted (Polls, above)."
                  if detail.state and detail.state.recent_polls else
                  f"The last poll and the failed polls{older}, newest first.")
    body = (back + facts
            + f"<h2>Articles and failures per hour, last {HOURS} hours</h2>" + volume_chart(volume)
            + f"<h2>Recent polls</h2><p class='sub'>{polls_note}</p>"
            + table(POLL_COLUMNS, _poll_rows(detail, now), empty="Not polled yet.")
            + "<h2>Articles that failed</h2><p class='sub'>Articles of this feed that could not be downloaded, "
              "extracted or indexed, newest first.</p>"
            + table(EVENT_COLUMNS, event_rows, empty="No failed articles recorded for this feed.")
            + pager("", events_page, event_pages, plural(detail.events_total, "failure"), {},
                    page_param="events_page")
            + "<h2>Recent articles</h2>"
            + table(ARTICLE_COLUMNS, article_rows, empty="No articles from this feed yet.")
            + f'<div class="pager">{plural(detail.articles_total, "article")} from this feed in all, '
              f"the {min(len(detail.articles), detail.articles_total)} newest shown.</div>")
    return page(title, body, current="feeds", root="../", user=viewer(request))
