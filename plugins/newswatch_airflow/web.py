"""Operator pages mounted in the Airflow API server at /newswatch (see newswatch_plugin.py).

- /newswatch/feeds   Feed health: each feed's state (last poll, status, failures, next due) and the
                     failure events of the last 24 hours by stage and reason.
- /newswatch/search  Claim search (speaker, certainty, article) over the claims index.
- /newswatch/watches Watches: each watch, its last match, last delivery, pending matches and failures.
- /newswatch/health  JSON: is Elasticsearch reachable, with which settings.

Pages are plain server-rendered HTML with relative links, so they work inside the Airflow UI's
iframe and behind a proxy. Endpoints are sync: FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse

log = logging.getLogger(__name__)

app = FastAPI(title="newswatch", description="Feed health and claim search for newswatch operators")

_STYLE = """<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;font-size:.9rem}th{background:#f3f3f3}.bad{color:#b00020}.ok{color:#1b5e20}
form{margin-bottom:1rem}input{padding:.3rem;min-width:20rem}</style>"""


def _settings() -> Any:
    from pipeline.config import load_settings

    try:
        from newswatch_airflow.config import settings_from_airflow

        return settings_from_airflow()
    except Exception as exc:  # outside a task the Variable/Connection lookup may not be available
        log.debug("falling back to environment settings: %s", exc)
        return load_settings()


def _es(settings: Any) -> Any:
    from pipeline.es import client_from_settings

    return client_from_settings(settings).options(request_timeout=5, max_retries=0)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    nav = ('<p><a href="feeds">Feed health</a> · <a href="search">Claim search</a> · '
           '<a href="watches">Watches</a></p>')
    html = f"<!doctype html><html><head><title>{escape(title)}</title>{_STYLE}</head><body>"
    return HTMLResponse(f"{html}<h2>{escape(title)}</h2>{nav}{body}</body></html>", status_code=status)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td colspan=99>none</td></tr>'}</table>"


def _unreachable(title: str, settings: Any, exc: Exception) -> HTMLResponse:
    from elasticsearch import ApiError

    what = "answered with an error" if isinstance(exc, ApiError) else "is unreachable"
    return _page(title, f'<p class="bad">Elasticsearch at {escape(settings.es_url)} {what}: '
                        f"{escape(type(exc).__name__)}: {escape(str(exc)[:300])}</p>", status=503)


FEED_COLUMNS = ("feed_id", "status", "reason", "http_status", "last_polled_at", "last_success_at",
                "consecutive_failures", "next_poll_at", "disabled", "disabled_reason", "total_new_entries")


def feed_rows(es: Any, prefix: str, size: int = 500) -> list[list[Any]]:
    """One row per feed state document (pipeline.feeds.state.FeedState), sorted by feed id."""
    from pipeline.index.names import IndexNames

    resp = es.search(index=IndexNames(prefix).feeds, size=size, query={"match_all": {}}, ignore_unavailable=True)
    rows = [[hit["_source"].get(col, hit["_id"] if col == "feed_id" else None) for col in FEED_COLUMNS]
            for hit in resp["hits"]["hits"]]
    return sorted(rows, key=lambda r: str(r[0]))


def failure_rows(es: Any, prefix: str) -> list[list[Any]]:
    from pipeline.index.names import IndexNames

    resp = es.search(index=IndexNames(prefix).events, size=0, ignore_unavailable=True,
                     query={"range": {"at": {"gte": "now-24h"}}},
                     aggs={"stage": {"terms": {"field": "stage", "size": 20},
                                         "aggs": {"status": {"terms": {"field": "status", "size": 30}}}}})
    stages = resp.get("aggregations", {}).get("stage", {}).get("buckets", [])
    return [[st["key"], b["key"], b["doc_count"]] for st in stages for b in st["status"]["buckets"]]


@app.get("/health")
def health() -> JSONResponse:
    settings = _settings()
    try:
        info = _es(settings).info()
        return JSONResponse({"elasticsearch": "ok", "url": settings.es_url,
                             "version": info["version"]["number"]})
    except Exception as exc:
        return JSONResponse({"elasticsearch": "unreachable", "url": settings.es_url,
                             "error": f"{type(exc).__name__}: {exc}"[:300]}, status_code=503)


@app.get("/feeds", response_class=HTMLResponse)
def feeds_page() -> HTMLResponse:
    settings = _settings()
    try:
        es = _es(settings)
        feeds = feed_rows(es, settings.index_prefix)
        failures = failure_rows(es, settings.index_prefix)
    except Exception as exc:
        return _unreachable("Feed health", settings, exc)
    body = (f"<h3>Feeds ({len(feeds)})</h3>" + _table(list(FEED_COLUMNS), feeds)
            + "<h3>Failures in the last 24 hours</h3>" + _table(["stage", "reason", "count"], failures))
    return _page("Feed health", body)


@app.get("/search", response_class=HTMLResponse)
def search_page(q: str = Query("", max_length=500), speaker: str = Query("", max_length=200),
                size: int = Query(20, ge=1, le=100)) -> HTMLResponse:
    form = (f'<form method="get" action="search"><input name="q" value="{escape(q)}" placeholder="claim text">'
            f' <input name="speaker" value="{escape(speaker)}" placeholder="speaker"> <button>Search</button></form>')
    if not q and not speaker:
        return _page("Claim search", form)
    settings = _settings()
    from pipeline.search.api import search
    from pipeline.search.query import SearchError, SearchQuery

    try:
        query = SearchQuery(text=q, speakers=[speaker] if speaker else [], claims=True, size=size, facets=False)
        resp = search(_es(settings), query, settings)
    except SearchError as exc:
        return _page("Claim search", form + f'<p class="bad">{escape(str(exc))}</p>', status=400)
    except Exception as exc:
        return _unreachable("Claim search", settings, exc)
    rows = [[c.speaker or "", c.kind, c.certainty or "", c.text[:300], c.title or "", c.url or ""]
            for c in resp.claims]
    return _page("Claim search", form + f"<p>{resp.total} claim(s)</p>"
                 + _table(["speaker", "kind", "certainty", "claim", "article", "url"], rows))


WATCH_COLUMNS = ["watch", "status", "search", "target", "mode", "last match", "last delivery", "matches",
                 "pending", "messages", "failures", "last error"]


def watch_rows(es: Any, settings: Any) -> list[list[Any]]:
    """One row per watch (pipeline.alerts), with counts from the deliveries index."""
    from pipeline.alerts.run import stores

    store, ledger = stores(es, settings)
    watches = store.all()
    counts = ledger.counts() if watches else {}

    def when(value: Any) -> str:
        return value.isoformat(timespec="seconds") if value else ""

    rows = []
    for w in watches:
        c, s = counts.get(w.watch_id, {}), w.state
        status = f"paused: {w.paused_reason}" if w.paused else "active"
        mode = f"digest {w.digest_hours}h" if w.mode == "digest" else "immediate"
        failures = f"{s.consecutive_failures} since {when(s.failing_since)}" if s.consecutive_failures else "0"
        rows.append([w.name, status, w.search.describe(), w.target.spec(), mode, when(s.last_match_at),
                     when(s.last_delivery_at), c.get("matches", 0), c.get("pending", 0), c.get("deliveries", 0),
                     failures, s.last_error or ""])
    return rows


@app.get("/watches", response_class=HTMLResponse)
def watches_page() -> HTMLResponse:
    settings = _settings()
    try:
        rows = watch_rows(_es(settings), settings)
    except Exception as exc:
        return _unreachable("Watches", settings, exc)
    paused = sum(1 for r in rows if str(r[1]).startswith("paused"))
    body = (f"<p>{len(rows)} watch(es), {paused} paused. Manage them with <code>newswatch watch</code>; "
            "the news_alerts DAG delivers.</p>" + _table(WATCH_COLUMNS, rows))
    return _page("Watches", body)
