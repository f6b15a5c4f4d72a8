"""One message per delivery: the watch's new matches, at most `max_items` listed, "and N more".

Each listed match: title (linked), outlet, speaker and certainty (claims), the claim text (for an article,
its best matching passage) with the matched words highlighted, and the link. Three renderings of the same
content, all deterministic (a re-send is byte-for-byte the same message):

- `text`: Slack mrkdwn (`*bold*`, `<url|title>`), the webhook's `text` field;
- `plain` and `html`: the two parts of the e-mail (matched words as [brackets] and <mark>).

`payload` is the webhook's JSON body: `text` plus structured items for receivers that are not Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from pipeline.alerts.model import HL_POST, HL_PRE, AlertItem, Watch

_MARKED = re.compile(re.escape(HL_PRE) + "(.*?)" + re.escape(HL_POST), re.S)
MAX_TEXT = 400  # characters of a claim shown


@dataclass
class Message:
    delivery_id: str
    watch: str
    subject: str
    text: str
    plain: str
    html: str
    total: int
    shown: int
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def more(self) -> int:
        return self.total - self.shown


def order(items: list[AlertItem]) -> list[AlertItem]:
    """Newest publication first (undated last), then by id: the same set always renders the same."""
    return sorted(items, key=lambda i: (-(i.published_at.timestamp() if i.published_at else float("-inf")),
                                        i.doc_id))


def matched_words(item: AlertItem) -> list[str]:
    return list(dict.fromkeys(m.strip() for m in _MARKED.findall(item.highlighted) if m.strip()))


def _clip(marked: str, limit: int = MAX_TEXT) -> str:
    """Shorten to about `limit` visible characters, keeping the first highlight in view and markers paired."""
    visible = marked.replace(HL_PRE, "").replace(HL_POST, "")
    if len(visible) <= limit:
        return marked
    first = marked.find(HL_PRE)
    start = 0
    if first > limit // 2:
        start = marked.rfind(" ", 0, first - limit // 4) + 1
    out, count, i, depth = [], 0, start, 0
    while i < len(marked) and count < limit:
        ch = marked[i]
        out.append(ch)
        if ch == HL_PRE:
            depth += 1
        elif ch == HL_POST:
            depth -= 1
        else:
            count += 1
        i += 1
    if depth > 0:
        out.append(HL_POST)
    return ("…" if start else "") + "".join(out).rstrip() + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mark(marked: str, pre: str, post: str, esc: Any) -> str:
    parts = re.split(f"({re.escape(HL_PRE)}|{re.escape(HL_POST)})", marked)
    out: list[str] = []
    for part in parts:
        if part == HL_PRE:
            out.append(pre)
        elif part == HL_POST:
            out.append(post)
        else:
            out.append(esc(part))
    return "".join(out)


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else "undated"


def _who(item: AlertItem) -> str:
    if item.speaker is None and item.certainty is None:
        return ""
    speaker = item.speaker or "unattributed"
    return f"{speaker} ({item.certainty} certainty)" if item.certainty else speaker


def render(watch: Watch, items: list[AlertItem], delivery_id: str, max_items: int) -> Message:
    ordered = order(items)
    shown = ordered[:max_items]
    total = len(ordered)
    more = total - len(shown)
    noun = "match" if total == 1 else "matches"
    search = watch.search.describe()
    subject = f"newswatch: {total} new {noun} for {watch.name}"
    head = f"{total} new {noun} for watch {watch.name!r} ({search})"

    slack = [f"*newswatch · {_slack_escape(watch.name)}*: {total} new {noun} ({_slack_escape(search)})"]
    plain = [head, ""]
    html = [f"<p><b>{escape(head)}</b></p>", "<ol>"]
    for n, item in enumerate(shown, 1):
        title = item.title or "(untitled)"
        outlet = item.site or "unknown outlet"
        marked = _clip(item.highlighted or item.text)
        who = _who(item)
        link = f"<{_slack_escape(item.url)}|{_slack_escape(title)}>" if item.url else _slack_escape(title)
        slack.append(f"• *{link}* — {_slack_escape(outlet)}, {_date(item.published_at)}")
        quote = _mark(marked, "*", "*", _slack_escape)
        slack.append(f"    {_slack_escape(who) + ': ' if who else ''}“{quote}”")
        plain.append(f"{n}. {title} — {outlet}, {_date(item.published_at)}")
        plain.append(f"   {who + ': ' if who else ''}\"{_mark(marked, '[', ']', str)}\"")
        plain.append(f"   {item.url or '(no link)'}")
        plain.append("")
        href = f'<a href="{escape(item.url, quote=True)}">{escape(title)}</a>' if item.url else escape(title)
        html.append(f"<li><p><b>{href}</b> — {escape(outlet)}, {_date(item.published_at)}<br>"
                    f"{escape(who) + ': ' if who else ''}“{_mark(marked, '<mark>', '</mark>', escape)}”</p></li>")
    html.append("</ol>")
    if more:
        tail = f"and {more} more (newswatch watch show {watch.name})"
        slack.append(f"_…{_slack_escape(tail)}_")
        plain.append(tail)
        html.append(f"<p>{escape(tail)}</p>")
    footer = f"newswatch watch {watch.name} · message {delivery_id}"
    plain += ["--", footer]
    html.append(f'<p style="color:#777;font-size:small">{escape(footer)}</p>')
    message = Message(delivery_id=delivery_id, watch=watch.name, subject=subject, text="\n".join(slack),
                      plain="\n".join(plain), html="\n".join(html), total=total, shown=len(shown))
    message.payload = {
        "text": message.text,
        "watch": watch.name,
        "search": search,
        "delivery_id": delivery_id,
        "idempotency_key": delivery_id,
        "total": total,
        "more": more,
        "items": [{
            "kind": i.doc_kind, "id": i.doc_id, "title": i.title, "outlet": i.site, "url": i.url,
            "published_at": i.published_at.isoformat() if i.published_at else None, "speaker": i.speaker,
            "certainty": i.certainty, "claim": i.text, "claim_html": _mark(_clip(i.highlighted or i.text), "<mark>",
                                                                          "</mark>", escape),
            "matched": matched_words(i),
        } for i in shown],
    }
    return message
