"""Inline SVG charts rendered on the server (no script, no CDN): articles and failures per hour, and
failures per hour stacked by reason. Each hour carries a tooltip with its exact counts."""

from __future__ import annotations

from datetime import datetime
from html import escape

from pipeline.ops.labels import reason_label
from pipeline.ops.volume import Volume

ARTICLES_COLOUR = "#3b76c4"
FAILURES_COLOUR = "#d0453a"
REASON_COLOURS = ("#d0453a", "#e8a33d", "#2f8f9d", "#7a5aa6", "#5c9c4a", "#c05f95", "#8d6e4c")
OTHER_COLOUR = "#9aa5b1"

_W, _H = 1000, 190
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 8, 10, 24


def _nice_max(value: int) -> int:
    """The smallest 1-2-5 step at or above `value` (at least 1), so the axis reads 0 / half / max."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= m * step:
                return m * step
        step *= 10


def _frame(top: int, hours: int) -> str:
    """Gridlines with their values, and the time axis in hours before now."""
    bottom = _H - _BOTTOM
    out = []
    for frac in (0.0, 0.5, 1.0):
        y = bottom - frac * (bottom - _TOP)
        value = top * frac
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e7ed"/>')
        if value == int(value):  # counts are whole: no "0.5" on the axis
            out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    width = (_W - _LEFT - _RIGHT) / hours
    for ago in range(hours, 0, -12):
        x = _LEFT + (hours - ago) * width
        out.append(f'<text x="{x:.1f}" y="{_H - 6}" text-anchor="{"start" if ago == hours else "middle"}">'
                   f"{ago} h ago</text>")
    out.append(f'<text x="{_W - _RIGHT}" y="{_H - 6}" text-anchor="end">now</text>')
    return "".join(out)


def _hour_label(start: datetime) -> str:
    return f"{start:%a %d %b %H}:00–{(start.hour + 1) % 24:02d}:00 UTC"


def _svg(label: str, inner: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(label)}" '
            f'preserveAspectRatio="xMidYMid meet">{inner}</svg>')


def volume_chart(volume: Volume) -> str:
    """Articles (blue) and failures (red) side by side for each hour of the window."""
    hours = volume.window.hours
    top = _nice_max(max([*volume.articles, *volume.failures, 1]))
    bottom, height = _H - _BOTTOM, _H - _BOTTOM - _TOP
    width = (_W - _LEFT - _RIGHT) / hours
    bar = max(1.0, width * 0.38)
    parts = [_frame(top, hours)]
    for i, start in enumerate(volume.window.bucket_starts()):
        a, f = volume.articles[i], volume.failures[i]
        x = _LEFT + i * width
        ha, hf = height * a / top, height * f / top
        tip = f"{_hour_label(start)}: {a:,} article{'s' if a != 1 else ''}, {f:,} failure{'s' if f != 1 else ''}"
        parts.append(f'<g><title>{escape(tip)}</title>'
                     f'<rect x="{x:.1f}" y="{_TOP}" width="{width:.1f}" height="{height}" fill="transparent"/>'
                     f'<rect x="{x + width * 0.1:.1f}" y="{bottom - ha:.1f}" width="{bar:.1f}" height="{ha:.1f}" '
                     f'fill="{ARTICLES_COLOUR}"/>'
                     f'<rect x="{x + width * 0.1 + bar:.1f}" y="{bottom - hf:.1f}" width="{bar:.1f}" '
                     f'height="{hf:.1f}" fill="{FAILURES_COLOUR}"/></g>')
    label = (f"Articles and failures per hour over the last {hours} hours: {volume.total_articles:,} articles, "
             f"{volume.total_failures:,} failures")
    legend = (f'<div class="legend"><span><i style="background:{ARTICLES_COLOUR}"></i>Articles '
              f'({volume.total_articles:,})</span><span><i style="background:{FAILURES_COLOUR}"></i>Failures '
              f"({volume.total_failures:,})</span></div>")
    return _svg(label, "".join(parts)) + legend


def reasons_chart(volume: Volume, shown: int = len(REASON_COLOURS)) -> str:
    """Failures per hour stacked by reason: the most frequent reasons in colour, the rest as Other."""
    hours = volume.window.hours
    top_reasons = volume.reasons[:shown]
    rest = volume.reasons[shown:]
    series = [(reason_label(r.stage, r.status), REASON_COLOURS[n], r.counts) for n, r in enumerate(top_reasons)]
    if rest:
        other = tuple(sum(r.counts[i] for r in rest) for i in range(hours))
        series.append(("Other", OTHER_COLOUR, other))
    totals = [sum(s[2][i] for s in series) for i in range(hours)]
    top = _nice_max(max([*totals, 1]))
    bottom, height = _H - _BOTTOM, _H - _BOTTOM - _TOP
    width = (_W - _LEFT - _RIGHT) / hours
    parts = [_frame(top, hours)]
    if not any(totals):
        parts.append(f'<text x="{(_W + _LEFT) / 2}" y="{_TOP + height / 2}" text-anchor="middle">'
                     f"No failures in the last {hours} hours</text>")
    for i, start in enumerate(volume.window.bucket_starts()):
        if not totals[i]:
            continue
        x = _LEFT + i * width + width * 0.12
        y = float(bottom)
        rects = []
        lines = [f"{_hour_label(start)}: {totals[i]:,} failure{'s' if totals[i] != 1 else ''}"]
        for name, colour, counts in series:
            if counts[i]:
                h = height * counts[i] / top
                y -= h
                rects.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width * 0.76:.1f}" height="{h:.1f}" '
                             f'fill="{colour}"/>')
                lines.append(f"{name}: {counts[i]:,}")
        parts.append(f'<g><title>{escape(chr(10).join(lines))}</title>{"".join(rects)}</g>')
    legend = "".join(f'<span><i style="background:{colour}"></i>{escape(name)} ({sum(counts):,})</span>'
                     for name, colour, counts in series)
    label = f"Failures per hour by reason over the last {hours} hours"
    return _svg(label, "".join(parts)) + (f'<div class="legend">{legend}</div>' if legend else "")
