"""Watches (/newswatch/watches): each watch's search, target, last match and delivery, counts from the
deliveries ledger and its failures (pipeline.alerts), sorted and paged on the server. Watches are few
(one per saved search), so they are sorted in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from newswatch_airflow import backend
from newswatch_airflow.pages.errors import unavailable
from newswatch_airflow.pages.html import (
    Column,
    Sorting,
    badge,
    clipped,
    number,
    page,
    pager,
    plural,
    table,
    viewer,
    when,
    when_cell,
)

router = APIRouter()

PER_PAGE = 50
COLUMNS = (
    Column("Watch", "14%", "name"),
    Column("Status", "9%", "status"),
    Column("Search", "19%"),
    Column("Sends to", "13%"),
    Column("Last match", "10%", "last_match", first_desc=True),
    Column("Last delivery", "10%", "last_delivery", first_desc=True),
    Column("Matches", "6%", "matches", numeric=True, first_desc=True),
    Column("Waiting", "6%", "pending", numeric=True, first_desc=True),
    Column("Problem", "13%", "failures", first_desc=True),
)
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class WatchRow:
    watch: Any  # pipeline.alerts.model.Watch
    counts: dict[str, int]

    def key(self, sort: str) -> Any:
        w, s = self.watch, self.watch.state
        return {
            "name": w.name,
            "status": (not w.paused, w.name),
            "last_match": s.last_match_at or _EPOCH,
            "last_delivery": s.last_delivery_at or _EPOCH,
            "matches": self.counts.get("matches", 0),
            "pending": self.counts.get("pending", 0),
            "failures": (s.consecutive_failures, self.counts.get("failed", 0)),
        }.get(sort, w.name)


def describe(search: Any) -> str:
    """A watch's search as a sentence: `"North Korea", said by Jens Stoltenberg, low certainty`."""
    parts = [f"“{search.text}”"] if search.text else []
    parts += [f"about {e}" for e in search.entities] + [f"said by {s}" for s in search.speakers]
    parts += [f"{search.certainty} certainty"] if search.certainty else []
    parts += [f"on {s}" for s in search.sites]
    return ", ".join(parts)


def watch_rows(es: Any, settings: Any) -> list[WatchRow]:
    from pipeline.alerts.run import stores

    store, ledger = stores(es, settings)
    watches = store.all()
    counts = ledger.counts() if watches else {}
    return [WatchRow(w, counts.get(w.watch_id, {})) for w in watches]


def _cells(row: WatchRow, now: datetime) -> list[str]:
    w, s, c = row.watch, row.watch.state, row.counts
    name = escape(w.name) + (f'<div class="sub">{clipped(w.description, lines=2)}</div>' if w.description else "")
    status = (badge("Paused", "idle", w.paused_reason or "") + (f'<div class="sub">{clipped(w.paused_reason, lines=3)}'
                                                                 "</div>" if w.paused_reason else "")
              if w.paused else badge("Failing", "warn") if s.consecutive_failures else badge("Active", "ok"))
    search = clipped(describe(w.search), lines=2) + f'<div class="sub">{"claims" if w.search.claims else "articles"}</div>'
    mode = f"digest every {w.digest_hours} h" if w.mode == "digest" else "as they come"
    target = clipped(w.target.spec(), lines=2) + f'<div class="sub">{escape(mode)}</div>'
    sent = c.get("deliveries", 0)
    delivery = when_cell(s.last_delivery_at, now, empty="never") + f'<div class="sub">{plural(sent, "message")}</div>'
    failed = c.get("failed", 0)
    if s.consecutive_failures:
        first = f", the first {when(s.failing_since, now, only_relative=True)}" if s.failing_since else ""
        problem = (f"{plural(s.consecutive_failures, 'failure')} in a row{first}"
                   + (f'<div class="sub">{clipped(s.last_error, lines=2)}</div>' if s.last_error else ""))
    elif failed:
        problem = f'<span class="sub">{plural(failed, "message")} failed earlier</span>'
    else:
        problem = '<span class="muted">—</span>'
    return [name, status, search, target, when_cell(s.last_match_at, now, empty="never"), delivery,
            number(c.get("matches", 0)), number(c.get("pending", 0)), problem]


@router.get("/watches", response_class=HTMLResponse)
def watches_page(request: Request, sort: str = Query("name", max_length=40), order: str = Query("asc", max_length=4),
                 page_no: int = Query(1, alias="page", ge=1, le=10_000)) -> HTMLResponse:
    now = datetime.now(UTC)
    settings = backend.settings()
    sortable = {c.sort for c in COLUMNS if c.sort}
    sort = sort if sort in sortable else "name"
    descending = order == "desc"
    try:
        rows = watch_rows(backend.client(settings), settings)
    except backend.ES_ERRORS as exc:
        return unavailable("Watches", exc, settings, request, current="watches")
    rows.sort(key=lambda r: r.key(sort), reverse=descending)
    paused = sum(1 for r in rows if r.watch.paused)
    failing = sum(1 for r in rows if r.watch.state.consecutive_failures and not r.watch.paused)
    pages = max(1, -(-len(rows) // PER_PAGE))
    page_no = min(page_no, pages)
    shown = rows[(page_no - 1) * PER_PAGE:page_no * PER_PAGE]
    intro = (f'<div class="cards"><div class="card"><b>{number(len(rows))}</b><span>Watches</span></div>'
             f'<div class="card ok"><b>{number(len(rows) - paused)}</b><span>Active</span></div>'
             f'<div class="card {"warn" if failing else ""}"><b>{number(failing)}</b><span>Failing</span></div>'
             f'<div class="card"><b>{number(paused)}</b><span>Paused</span></div></div>'
             '<p class="sub">Manage watches with <code>newswatch watch add|pause|resume|remove</code>; '
             "the news_alerts DAG evaluates them after every ingest and delivers each match once.</p>")
    sorting = Sorting("watches", sort, descending, {})
    body = (intro + table(COLUMNS, [_cells(r, now) for r in shown], sorting=sorting,
                          empty="No watches yet: add one with newswatch watch add.")
            + pager("watches", page_no, pages, plural(len(rows), "watch", "watches"),
                    {"sort": sort if sort != "name" else "", "order": "desc" if descending else ""}))
    return page("Watches", body, current="watches", user=viewer(request))
