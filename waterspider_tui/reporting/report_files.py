"""Choosing a report's format (by name or by the file's suffix), rendering it, and writing it."""

from __future__ import annotations

from pathlib import Path

from waterspider_tui.reporting.report_html import to_html
from waterspider_tui.reporting.report_text import to_json, to_markdown
from waterspider_tui.reporting.results import Results

FORMATS = ("md", "json", "html")
_SUFFIXES = {"md": "md", "markdown": "md", "json": "json", "html": "html", "htm": "html"}


class UnknownReportFormat(ValueError):
    """A report file whose suffix names no format we write (`r.pdf`), and no format was asked for."""


def format_of(chosen: str | None, out: Path | None) -> str:
    """The format asked for, else the one `out`'s suffix names (`.html`, `.json`, `.md`), else Markdown.

    A suffix that names none of them is refused: writing Markdown into `r.pdf` would look like
    a broken PDF, not like the report.
    """
    if chosen:
        return chosen
    suffix = out.suffix.lower().lstrip(".") if out else ""
    if suffix and suffix not in _SUFFIXES:
        raise UnknownReportFormat(f"cannot write a report as .{suffix} ({out}): use .md, .json or .html")
    return _SUFFIXES.get(suffix, "md")


def render(results: Results, format_name: str, *, generated_at: float) -> str:
    """The report as text in one of FORMATS."""
    if format_name == "html":
        return to_html(results, generated_at=generated_at)
    return to_json(results) if format_name == "json" else to_markdown(results)


def write_report(results: Results, out: Path, *, generated_at: float, format_name: str | None = None) -> str:
    """Write the report to `out` (folders made as needed); returns the line saying where. Raises OSError."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results, format_of(format_name, out), generated_at=generated_at), encoding="utf-8")
    return f"report written to {out} ({len(results.rows)} sessions, {len(results.issues)} issues)"
