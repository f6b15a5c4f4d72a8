"""Readable names for the values the pipeline stores (statuses, stages, claim kinds) and for durations,
so no page shows snake_case or a bare number of seconds."""

from __future__ import annotations

from datetime import datetime

STATUS_LABELS = {
    "new": "Not polled yet",
    "ok": "OK",
    "not_modified": "Unchanged",
    "too_short": "Too short",
    "not_article": "Not an article",
    "paywalled": "Paywalled",
    "blocked": "Blocked",
    "http_error": "HTTP error",
    "timeout": "Timed out",
    "too_large": "Too large",
    "refused": "Refused",
    "parse_error": "Unreadable",
    "index_error": "Not indexed",
    "failed": "Failed",
}

STAGE_LABELS = {
    "feeds": "Feed poll",
    "fetch": "Download",
    "extract": "Extraction",
    "tag": "Tagging",
    "index": "Indexing",
    "run": "Run",
    "alerts": "Alert delivery",
}

KIND_LABELS = {
    "direct_quote": "Direct quote",
    "mixed": "Partly quoted",
    "indirect": "Indirect",
    "reported": "Reported",
    "assertion": "Assertion",
}


def humanize(value: str | None) -> str:
    """`too_short` -> `Too short`: the fallback for values without a label of their own."""
    text = (value or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", humanize(status))


def stage_label(stage: str | None) -> str:
    return STAGE_LABELS.get(stage or "", humanize(stage))


def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "", humanize(kind))


def reason_label(stage: str | None, status: str | None) -> str:
    """A failure class as people read it: `Download: timed out`."""
    label = status_label(status)
    if not label[1:2].isupper():  # keep acronyms (HTTP error, OK) as they are
        label = label[:1].lower() + label[1:]
    return f"{stage_label(stage)}: {label}"


def duration(seconds: float | None) -> str:
    """90 -> `1 min 30 s`, 7200 -> `2 h`, 0/None -> `` (nothing to say)."""
    if not seconds or seconds < 0:
        return ""
    s = int(round(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown)


def relative(at: datetime, now: datetime) -> str:
    """`3 min ago`, `in 2 h`, `just now`: the distance from `now`, coarse as people say it."""
    delta = (now - at).total_seconds()
    future = delta < 0
    s = abs(delta)
    if s < 45:
        return "just now" if not future else "in a moment"
    if s < 3600:
        text = f"{max(1, round(s / 60))} min"
    elif s < 86400:
        text = f"{round(s / 3600)} h"
    elif s < 86400 * 45:
        days = round(s / 86400)
        text = f"{days} day{'s' if days != 1 else ''}"
    else:
        return at.strftime("%Y-%m-%d")
    return f"in {text}" if future else f"{text} ago"
