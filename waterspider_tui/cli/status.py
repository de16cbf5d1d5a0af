"""`waterspider status` and `waterspider plan`: the queues from the store, or a dry run, starting nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from waterspider_tui.cli.common import fail, overrides, read_store, scheduler_config, settings_from
from waterspider_tui.config import ConfigError, check_agent_options

_CONFIG_HELP = "waterspider.toml to read (default: ./waterspider.toml if present)."
_STORE_HELP = "The run's state file (default: .waterspider/state.db in the repository)."
_REPO_HELP = "The repository the run works on, whose state is read (default: .)."


def orchestrator_running(store_path: Path) -> bool:
    """Whether a run holds the store's lock right now (taken and given back at once when free)."""
    from waterspider_tui.engine.locks import EngineLocked, run_locks

    locks = run_locks(store_path)
    try:
        locks.acquire()
    except EngineLocked:
        return True
    except OSError:  # a read-only folder: nothing can be running on it from here either way
        return False
    locks.release()
    return False


@click.command()
@click.option("--config", type=click.Path(path_type=Path), help=_CONFIG_HELP)
@click.option("--store", type=click.Path(path_type=Path), help=_STORE_HELP)
@click.option("--repo-path", type=click.Path(path_type=Path), help=_REPO_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the queues as one JSON object.")
def status(config: Path | None, store: Path | None, repo_path: Path | None, as_json: bool) -> None:
    """The queues from the store, whether an orchestrator runs them now, and how the last run left them."""
    from waterspider_tui.core.scheduler import plan
    from waterspider_tui.text.status_text import status_dict, status_lines

    settings, snapshot = read_store(config, store, repo_path)
    running = orchestrator_running(settings.store_path())
    now = time.time()
    current = plan(snapshot, now, scheduler_config(settings))
    if as_json:
        click.echo(json.dumps(status_dict(snapshot, current, now, orchestrator_running=running, done_when=settings.milestones.done_when), indent=2))
    else:
        click.echo("\n".join(status_lines(snapshot, current, now, orchestrator_running=running, done_when=settings.milestones.done_when)))


@click.command()
@click.option("--config", type=click.Path(path_type=Path), help=_CONFIG_HELP)
@click.option("--issues", type=click.Path(path_type=Path), help="Plan a folder of Markdown issues.")
@click.option("--store", type=click.Path(path_type=Path), help="Plan the issues of a run's state file instead.")
@click.option("--repo-path", type=click.Path(path_type=Path), help=_REPO_HELP)
@click.option("--capacity", type=click.IntRange(1, 1000), help="Sessions running at once, for what would start first (default 5).")
@click.option("--json", "as_json", is_flag=True, help="Print {\"order\": [...], \"blocked\": [...], \"skipped\": [...]}.")
def plan(config: Path | None, issues: Path | None, store: Path | None, repo_path: Path | None, capacity: int | None, as_json: bool) -> None:
    """Dry run: the dispatch order with scores, and why every other issue waits."""
    from waterspider_tui.cli.plan import plan_command

    settings = settings_from(config, overrides(issues=issues, store=store, repo_path=repo_path, capacity=capacity))
    try:
        check_agent_options(settings, config or next((path for path in [Path("waterspider.toml")] if path.is_file()), None))
    except ConfigError as error:
        fail(str(error))
    # --issues with --store: the folder's issues as that store left them.
    from_folder = settings.issues.dir is not None and (issues is not None or store is None)
    if not from_folder and store is None and not settings.github.repos and not settings.store_path().exists():
        fail(f"nothing to plan: give --issues DIR (a folder of Markdown issues) or --store PATH (a run's state); there is no store at {settings.store_path()}")
    try:
        output = plan_command(settings, from_folder=from_folder, as_json=as_json)
    except ConfigError as error:
        fail(str(error))
    for note in output.notes:
        click.echo(note, err=True)
    click.echo(output.text)
