"""Small inline SVG charts for the HTML report: no script, no fonts or files to fetch, so it opens offline."""

from __future__ import annotations

from html import escape
from typing import Callable, Sequence

OUTCOME_COLORS = {"succeeded": "#2e9e5b", "failed": "#d1453b", "retrying": "#e3a21a", "cancelled": "#8a8f98"}
BAR_COLOR = "#3b7dd8"
TEXT_COLOR = "#4a4f57"
GRID_COLOR = "#e3e6ea"

Format = Callable[[float], str]


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            'style="max-width:100%;height:auto" role="img" '
            f'aria-label="{escape(label)}" font-family="system-ui, sans-serif" font-size="12">'
            f"<title>{escape(label)}</title>{''.join(body)}</svg>")


def stacked_bar(parts: Sequence[tuple[str, float]], label: str, width: int = 640) -> str:
    """One bar split by share (the issues' outcomes), with a legend under it."""
    total = sum(value for _, value in parts) or 1.0
    body, x = [], 0.0
    for name, value in parts:
        share = value / total * width
        if share > 0:
            color = OUTCOME_COLORS.get(name, BAR_COLOR)
            body.append(f'<rect x="{x:.1f}" y="0" width="{share:.1f}" height="28" fill="{color}"><title>{escape(name)}: {value:g}</title></rect>')
        x += share
    for index, (name, value) in enumerate(parts):
        lx = index * (width / max(len(parts), 1))
        body.append(f'<rect x="{lx:.1f}" y="40" width="12" height="12" fill="{OUTCOME_COLORS.get(name, BAR_COLOR)}"/>')
        body.append(f'<text x="{lx + 18:.1f}" y="51" fill="{TEXT_COLOR}">{escape(name)} {value:g}</text>')
    return _svg(width, 60, body, label)


def bars(items: Sequence[tuple[str, float]], label: str, fmt: Format = lambda v: f"{v:g}", color: str = BAR_COLOR,
         colors: Sequence[str] | None = None, width: int = 640) -> str:
    """Horizontal bars, one per item, longest first as given; the value printed at each bar's end."""
    if not items:
        return _svg(width, 24, [f'<text x="0" y="16" fill="{TEXT_COLOR}">nothing to show</text>'], label)
    label_w, row_h = 170, 24
    top = max(value for _, value in items) or 1.0
    body = []
    for index, (name, value) in enumerate(items):
        y = index * row_h
        length = max(value / top * (width - label_w - 80), 1.0 if value else 0.0)
        fill = colors[index] if colors else color
        shown = name if len(name) <= 24 else name[:23] + "…"
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="{TEXT_COLOR}">{escape(shown)}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="16" rx="2" fill="{fill}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>')
        body.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 16}" fill="{TEXT_COLOR}">{escape(fmt(value))}</text>')
    return _svg(width, row_h * len(items) + 4, body, label)


def columns(points: Sequence[tuple[str, float]], label: str, fmt: Format = lambda v: f"{v:g}", width: int = 640, height: int = 200) -> str:
    """Vertical bars over time with a baseline, the top value, and a few labels along the bottom."""
    if not points:
        return _svg(width, 24, [f'<text x="0" y="16" fill="{TEXT_COLOR}">nothing to show</text>'], label)
    left, bottom, top_pad = 56, 30, 14
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    top = max(value for _, value in points) or 1.0
    slot = plot_w / len(points)
    body = [
        f'<line x1="{left}" y1="{top_pad}" x2="{width - 8}" y2="{top_pad}" stroke="{GRID_COLOR}"/>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" y2="{top_pad + plot_h}" stroke="{TEXT_COLOR}"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" fill="{TEXT_COLOR}">{escape(fmt(top))}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h + 4}" text-anchor="end" fill="{TEXT_COLOR}">{escape(fmt(0))}</text>',
    ]
    every = max(1, len(points) // 6)
    for index, (name, value) in enumerate(points):
        h = value / top * plot_h
        x = left + index * slot
        body.append(f'<rect x="{x + slot * 0.1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(slot * 0.8, 1):.1f}" height="{h:.1f}" fill="{BAR_COLOR}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>')
        if index % every == 0:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{height - 10}" text-anchor="middle" fill="{TEXT_COLOR}">{escape(name)}</text>')
    return _svg(width, height, body, label)
