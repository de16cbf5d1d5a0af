"""`waterspider status` and `waterspider plan`: the queues from the store, or a dry run, starting nothing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from waterspider_tui.cli.common import fail, overrides, read_store, settings_from
from waterspider_tui.config import ConfigError


@click.command()
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--store", type=click.Path(path_type=Path))
@click.option("--repo-path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def status(config: Path | None, store: Path | None, repo_path: Path | None, as_json: bool) -> None:
    """Print the queues from the store without starting anything."""
    from waterspider_tui.core.scheduler import plan
    from waterspider_tui.text.status_text import status_dict, status_lines

    settings, snapshot = read_store(config, store, repo_path)
    current = plan(snapshot, snapshot.now, settings.scheduler.to_core())
    if as_json:
        click.echo(json.dumps(status_dict(snapshot, current), indent=2))
    else:
        click.echo("\n".join(status_lines(snapshot, current)))


@click.command()
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--issues", type=click.Path(path_type=Path), help="Plan a folder of Markdown issues.")
@click.option("--store", type=click.Path(path_type=Path), help="Plan from a store instead.")
@click.option("--repo-path", type=click.Path(path_type=Path))
@click.option("--capacity", type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def plan(config: Path | None, issues: Path | None, store: Path | None, repo_path: Path | None, capacity: int | None, as_json: bool) -> None:
    """Dry run: the dispatch order with scores, and why every other issue waits."""
    from waterspider_tui.cli.plan import plan_command

    settings = settings_from(config, overrides(issues=issues, store=store, repo_path=repo_path, capacity=capacity))
    try:
        text = plan_command(settings, from_store=store is not None or (issues is None and settings.issues.dir is None), as_json=as_json)
    except ConfigError as error:
        fail(str(error))
    click.echo(text)
