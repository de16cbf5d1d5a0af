"""`waterspider log summarize`: read any saved session log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from waterspider_tui.cli.common import AGENT_KINDS


@click.group()
def log() -> None:
    """Inspect saved session logs."""


@log.command("summarize")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agent", type=click.Choice(AGENT_KINDS), help="Agent that wrote the log (detected when left out).")
@click.option("--json", "as_json", is_flag=True)
def log_summarize(path: Path, agent: str | None, as_json: bool) -> None:
    """Print the parsed summary of a session log: outcome, error class, turns, tools, cost."""
    from waterspider_tui.adapters.agents.summarize import format_summary, summarize_log

    summary = summarize_log(path, agent)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else format_summary(summary))
