"""The pages' shared HTML: the frame (title, navigation, styles, the script that localises times), times,
badges, sortable column headers, pagers and tables that fit the Airflow UI's iframe.

Every link is relative to the page (`root` is "" for /newswatch/<page> and "../" one level deeper), so
the pages work inside the UI's iframe, under a base_url prefix and behind a proxy. Server-rendered and
readable without JavaScript; the one inline script only rewrites UTC times into the reader's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from pipeline.ops.labels import relative

NAV = (("feeds", "Feed health"), ("search", "Claim search"), ("watches", "Watches"))

STYLE = """<style>
:root{--fg:#1f2933;--muted:#5f6b7a;--line:#e2e7ed;--head:#f4f6f9;--link:#0a5cc2;
--ok:#176b34;--ok-bg:#dcf5e3;--warn:#8a5a00;--warn-bg:#fff0c2;--bad:#a4221a;--bad-bg:#fde3e1;
--idle:#475263;--idle-bg:#eceff3}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);
background:#fff;margin:0;padding:14px 20px 32px}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 20px;border-bottom:1px solid var(--line);
padding-bottom:8px;margin-bottom:14px}
h1{font-size:20px;margin:0 8px 0 0}h2{font-size:16px;margin:26px 0 8px}
nav a{margin-right:14px}nav a[aria-current]{color:var(--fg);font-weight:600}
.who{margin-left:auto;color:var(--muted);font-size:12px}
.muted,.sub{color:var(--muted)}.sub{font-size:12px}
table{width:100%;border-collapse:collapse;table-layout:fixed;margin:4px 0 6px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:var(--head);font-size:13px;font-weight:600;overflow-wrap:normal;hyphens:auto}
th a{color:var(--fg)}th[aria-sort] a{color:var(--link)}
.num{text-align:right;font-variant-numeric:tabular-nums}
.clip{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.clamp{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
tbody tr:hover{background:#fafbfc}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
white-space:nowrap;max-width:100%;overflow:hidden;text-overflow:ellipsis;vertical-align:top}
.ok{color:var(--ok);background:var(--ok-bg)}.warn{color:var(--warn);background:var(--warn-bg)}
.bad{color:var(--bad);background:var(--bad-bg)}.idle{color:var(--idle);background:var(--idle-bg)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 4px}
.card{border:1px solid var(--line);border-radius:8px;padding:6px 14px 8px;min-width:118px;color:var(--fg)}
.card b{display:block;font-size:20px;font-variant-numeric:tabular-nums}.card span{font-size:12px;color:var(--muted)}
a.card:hover{text-decoration:none;border-color:var(--link)}
.card.warn,.card.bad,.card.ok{background:none}.card.warn b{color:var(--warn)}.card.bad b{color:var(--bad)}
.card.ok b{color:var(--ok)}
.notice{border-left:4px solid var(--bad);background:var(--bad-bg);padding:10px 14px;border-radius:4px;
margin:12px 0;max-width:70rem}
.notice.info{border-color:#8aa4c8;background:#eef3fa}
form.filters{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;margin:6px 0 10px}
label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}
input,select,button{font:inherit;padding:5px 8px;border:1px solid #c4ccd6;border-radius:5px;background:#fff;
color:var(--fg)}
input[type=search]{width:26rem;max-width:100%}
button{background:var(--link);border-color:var(--link);color:#fff;cursor:pointer;padding:5px 14px}
.tabs{display:flex;flex-wrap:wrap;gap:4px;margin:4px 0 8px}
.tabs a{padding:3px 10px;border-radius:14px;border:1px solid var(--line);color:var(--fg)}
.tabs a[aria-current]{background:var(--fg);border-color:var(--fg);color:#fff}
.pager{display:flex;flex-wrap:wrap;gap:14px;align-items:center;margin:6px 0 0;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:2px 0 6px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
svg.chart{display:block;width:100%;height:auto;max-width:1200px}
svg.chart text{font:11px system-ui,sans-serif;fill:#5f6b7a}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:6px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
mark{background:#ffec99;color:inherit;padding:0 1px;border-radius:2px}
code{background:var(--head);padding:1px 4px;border-radius:3px;font-size:13px}
</style>"""

# Rewrites <time datetime> into the reader's time zone ("14:05 · 3 min ago"); the server's text is UTC.
SCRIPT = """<script>
(function(){
function rel(at,now){var d=(now-at)/1000,f=d<0,s=Math.abs(d),t;
if(s<45)return f?"in a moment":"just now";
if(s<3600)t=Math.max(1,Math.round(s/60))+" min";else if(s<86400)t=Math.round(s/3600)+" h";
else if(s<86400*45){var n=Math.round(s/86400);t=n+(n===1?" day":" days");}else return null;
return f?"in "+t:t+" ago";}
var now=new Date();
document.querySelectorAll("time[datetime]").forEach(function(el){
var at=new Date(el.getAttribute("datetime"));if(isNaN(at))return;
var today=at.toDateString()===now.toDateString(),year=at.getFullYear()===now.getFullYear();
var o=today?{hour:"2-digit",minute:"2-digit"}:{month:"short",day:"numeric",hour:"2-digit",minute:"2-digit"};
if(!year)o.year="numeric";
var local=at.toLocaleString(undefined,o),r=rel(at,now);
var only=el.dataset.only;
el.textContent=only==="relative"&&r?r:only==="clock"?local:(r?local+" \\u00b7 "+r:local);
el.title=at.toLocaleString(undefined,{dateStyle:"full",timeStyle:"long"});});
})();
</script>"""


def viewer(request: Request) -> str | None:
    """The signed-in user's name (left by newswatch_airflow.auth), shown in the page header."""
    return (request.scope.get("state") or {}).get("newswatch_user")


def href(path: str, **params: Any) -> str:
    """`path?a=1&b=2` with the empty parameters left out (escaped for an attribute by the caller)."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


def page(title: str, body: str, *, current: str = "", root: str = "", user: str | None = None,
         status: int = 200) -> HTMLResponse:
    links = "".join(f'<a href="{root}{path}"{" aria-current=page" if path == current else ""}>{label}</a>'
                    for path, label in NAV)
    who = f'<span class="who">Signed in as {escape(user)}</span>' if user else ""
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)} · newswatch"
            f"</title>{STYLE}</head><body><header><h1>{escape(title)}</h1><nav>{links}</nav>{who}</header>"
            f"{body}{SCRIPT}</body></html>")
    return HTMLResponse(html, status_code=status)


def number(n: int | float) -> str:
    return f"{n:,}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{number(n)} {one if n == 1 else (many or one + 's')}"


def when(at: datetime | None, now: datetime, *, empty: str = "—", only_relative: bool = False) -> str:
    """A time as `14:05 UTC · 3 min ago` (the script makes the clock local)."""
    if at is None:
        return f'<span class="muted">{escape(empty)}</span>'
    utc, clock, distance = _parts(at, now)
    return _time(utc, distance if only_relative else f"{clock} · {distance}", "relative" if only_relative else "")


def when_cell(at: datetime | None, now: datetime, *, empty: str = "—") -> str:
    """A time for a table cell: `3 min ago` over a smaller local clock time."""
    if at is None:
        return f'<span class="muted">{escape(empty)}</span>'
    utc, clock, distance = _parts(at, now)
    return _time(utc, distance, "relative") + f'<div class="sub">{_time(utc, clock, "clock")}</div>'


def due(at: datetime | None, now: datetime, *, empty: str = "—") -> str:
    """`when`, but a time that has passed reads `due since 14:05 UTC`."""
    if at is None or at > now:
        return when(at, now, empty=empty)
    utc, clock, _ = _parts(at, now)
    return f'due since {_time(utc, clock, "clock")}'


def due_cell(at: datetime | None, now: datetime, *, empty: str = "—") -> str:
    """A next-poll time: `in 4 min`, or `due` once it has passed (the next run picks the feed up)."""
    if at is None or at > now:
        return when_cell(at, now, empty=empty)
    utc, clock, _ = _parts(at, now)
    return f'due<div class="sub">since {_time(utc, clock, "clock")}</div>'


def _parts(at: datetime, now: datetime) -> tuple[datetime, str, str]:
    utc = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    today = utc.date() == now.astimezone(UTC).date()
    clock = utc.strftime("%H:%M UTC") if today else utc.strftime("%d %b %H:%M UTC")
    return utc, clock, relative(utc, now)


def _time(utc: datetime, text: str, only: str) -> str:
    attr = f' data-only="{only}"' if only else ""
    return (f'<time datetime="{utc.isoformat().replace("+00:00", "Z")}"{attr} '
            f'title="{utc.strftime("%Y-%m-%d %H:%M:%S UTC")}">{escape(text)}</time>')


def badge(text: str, tone: str, title: str = "") -> str:
    tip = f' title="{escape(title)}"' if title else ""
    return f'<span class="badge {tone}"{tip}>{escape(text)}</span>'


def clipped(text: str | None, *, lines: int = 1) -> str:
    """Long text cut to the cell, whole in the tooltip."""
    if not text:
        return ""
    if lines == 1:
        return f'<div class="clip" title="{escape(text)}">{escape(text)}</div>'
    return f'<div class="clamp" style="-webkit-line-clamp:{lines}" title="{escape(text)}">{escape(text)}</div>'


def link(url: str | None, text: str | None = None, *, external: bool = True, css: str = "") -> str:
    """A link to a URL from the data (a feed's, an article's): http(s) only, so a `javascript:` URL in
    a feed is shown as text, never made clickable."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return escape(text or url or "")
    target = ' target="_blank" rel="noopener noreferrer"' if external else ""
    cls = f' class="{css}"' if css else ""
    return f'<a href="{escape(url)}"{target}{cls} title="{escape(url)}">{escape(text or url)}</a>'


@dataclass(frozen=True)
class Column:
    label: str
    width: str  # a share of the table ("18%"), so the table always fits its frame
    sort: str = ""  # the page's sort key; "" = not sortable
    numeric: bool = False
    first_desc: bool = False  # dates and counts: newest/largest first on the first click
    one_way: bool = False  # only the first click's order (e.g. A to Z, unattributed last): no reversing


@dataclass(frozen=True)
class Sorting:
    path: str
    key: str
    descending: bool
    params: dict[str, Any]  # the other parameters to keep (filters), page excluded


def table(columns: Sequence[Column], rows: Iterable[Sequence[str]], *, sorting: Sorting | None = None,
          empty: str = "Nothing to show.") -> str:
    """Cells are HTML already (escaped by their makers)."""
    cols = "".join(f'<col style="width:{c.width}">' for c in columns)
    head = "".join(_header(c, sorting) for c in columns)
    body = "".join("<tr>" + "".join(f'<td{" class=num" if c.numeric else ""}>{cell}</td>'
                                    for c, cell in zip(columns, row, strict=True)) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(columns)}" class="muted">{escape(empty)}</td></tr>'
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _header(c: Column, sorting: Sorting | None) -> str:
    css = ' class="num"' if c.numeric else ""
    if not c.sort or sorting is None:
        return f'<th{css} title="{escape(c.label)}">{escape(c.label)}</th>'
    active = sorting.key == c.sort
    descending = (not sorting.descending) if active and not c.one_way else c.first_desc
    target = href(sorting.path, **sorting.params, sort=c.sort, order="desc" if descending else "asc")
    arrow = (" ▼" if sorting.descending else " ▲") if active else ""
    aria = f' aria-sort="{"descending" if sorting.descending else "ascending"}"' if active else ""
    return (f'<th{css}{aria} title="Sort by {escape(c.label.lower())}"><a href="{escape(target)}">'
            f"{escape(c.label)}{arrow}</a></th>")


def pager(path: str, page_no: int, pages: int, total_text: str, params: dict[str, Any],
          page_param: str = "page") -> str:
    if pages <= 1:
        return f'<div class="pager">{escape(total_text)}</div>'
    prev = (f'<a href="{escape(href(path, **params, **{page_param: page_no - 1}))}" rel="prev">‹ Previous</a>'
            if page_no > 1 else '<span>‹ Previous</span>')
    nxt = (f'<a href="{escape(href(path, **params, **{page_param: page_no + 1}))}" rel="next">Next ›</a>'
           if page_no < pages else "<span>Next ›</span>")
    return (f'<div class="pager">{prev}<span>Page {page_no} of {number(pages)} · {escape(total_text)}</span>'
            f"{nxt}</div>")


def notice(message: str, *, info: bool = False) -> str:
    return f'<div class="notice{" info" if info else ""}" role="{"status" if info else "alert"}">{message}</div>'
