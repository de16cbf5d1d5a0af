"""`waterspider run` (the default) and `waterspider demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from waterspider_tui.cli.common import RunEnd, overrides, run_options, settings_from, start_run, this_command
from waterspider_tui.exit_codes import EXIT_USAGE

DEMO_SESSION_S = 15.0
"""How long one simulated session of the demo takes at `--speed 1`: the twenty issues take about
two minutes, time enough to try the keys."""


@click.command()
@run_options
@click.option("--issues", type=click.Path(path_type=Path), help="A folder of Markdown issues (the embedded source).")
@click.option("--repo", multiple=True, help="GitHub repository owner/name to poll (repeatable).")
@click.option("--github-api-url", help="GitHub REST API root (GitHub Enterprise Server, tests).")
@click.option("--repo-path", type=click.Path(path_type=Path), help="The git repository the worktrees are made from (default: .).")
@click.option("--base-branch", help="Branch issue branches start from (default: the current branch).")
@click.option("--until-idle", is_flag=True, help="Exit once nothing runs and nothing can start.")
def run(config: Path | None = None, no_ui: bool = False, json_lines: bool = False, until_idle: bool = False, **flags: Any) -> None:
    """Poll issues and run agents on them (the default command)."""
    settings = settings_from(config, overrides(**flags))
    raise SystemExit(start_run(settings, no_ui=no_ui, json_lines=json_lines, until_idle=until_idle).code)


@click.command()
@run_options
@click.option("--speed", type=click.FloatRange(0.01, 100.0), default=1.0, show_default=True,
              help="How fast simulated sessions go: 2 twice as fast, 0.5 half as fast (at 1 the demo lasts about two minutes).")
@click.option("--fail-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of simulated sessions that fail.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated agents (same seed, same run).")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help="Keep the demo here (and reattach to it) instead of a temporary folder removed at exit.")
def demo(config: Path | None = None, no_ui: bool = False, json_lines: bool = False, speed: float = 1.0, fail_rate: float = 0.0, seed: int = 0, folder: Path | None = None, **flags: Any) -> None:
    """Run twenty sample issues through simulated agents in real git worktrees."""
    from waterspider_tui.cli.demo import prepare_demo, remove_demo

    root, repo, issues = prepare_demo(folder)
    tree = overrides(**flags)
    tree.setdefault("issues", {}).update(dir=issues, poll_interval_s=1.0)
    tree.setdefault("workspace", {})["repo_path"] = repo
    agent = tree.setdefault("agent", {})
    agent.setdefault("kind", "simulated")
    agent["options"] = {"duration_s": DEMO_SESSION_S / speed, "fail_rate": fail_rate, "seed": seed}
    tree.setdefault("sessions", {}).update(retry_backoff_s=1.0, stall_timeout_s=60.0)
    settings = settings_from(config, tree)
    if not json_lines:
        click.echo(f"demo repository: {repo}\ndemo issues:     {issues}", err=True)
    reattach = this_command() if folder else f"{this_command()} --dir {root}"
    end = RunEnd(EXIT_USAGE)
    try:
        end = start_run(settings, no_ui=no_ui, json_lines=json_lines, until_idle=no_ui or json_lines, reattach=reattach)
    finally:
        if folder is None and end.left_running:
            click.echo(f"waterspider: the demo folder {root} is kept for them; remove it when they are done", err=True)
        elif folder is None:
            remove_demo(root)
    raise SystemExit(end.code)
