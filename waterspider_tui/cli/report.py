"""`waterspider report`: every finished session from the store, as Markdown, JSON or one HTML file."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import click

from waterspider_tui.cli.common import fail, stored_events

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 7 * 86_400.0}


def parse_since(text: str, now: float) -> float:
    """`90m`, `24h`, `7d`, `2w` back from now, or a date or time (`2026-01-05`, `2026-01-05T18:00`, UTC unless it says)."""
    found = _RELATIVE.match(text.strip().lower())
    if found:
        return now - float(found.group(1)) * _UNITS[found.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a span (24h, 7d) nor a date (2026-01-05[T18:00])") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@click.command()
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--store", type=click.Path(path_type=Path))
@click.option("--repo-path", type=click.Path(path_type=Path))
@click.option("--since", "since_text", help="Only sessions finished since then: 24h, 7d, or a date such as 2026-01-05.")
@click.option("--format", "format_name", type=click.Choice(["md", "json", "html"]), help="md (default), json or html; --out's suffix otherwise.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to this file instead of printing it.")
def report(config: Path | None, store: Path | None, repo_path: Path | None, since_text: str | None, format_name: str | None, out: Path | None) -> None:
    """Totals, failures with their advice, the slowest and costliest issues, per label, milestone and host."""
    from waterspider_tui.reporting.report_files import UnknownReportFormat, format_of, render, write_report
    from waterspider_tui.core.state import replay
    from waterspider_tui.reporting.results import collect
    from waterspider_tui.text.milestone_text import milestone_rows

    try:
        format_of(format_name, out)
    except UnknownReportFormat as error:
        fail(f"{error}, or give --format")
    now = time.time()
    since = parse_since(since_text, now) if since_text else None
    settings, events = stored_events(config, store, repo_path)
    results = collect(events, since=since)
    results = replace(results, milestones=tuple(milestone_rows(replay(events), done_when=settings.milestones.done_when)))
    if out is None:
        click.echo(render(results, format_of(format_name, out), generated_at=now), nl=False)
        return
    try:
        click.echo(write_report(results, out, generated_at=now, format_name=format_name))
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
