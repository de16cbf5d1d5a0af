"""The `waterspider` command line: run (the default), demo, status, plan, log, clean."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from waterspider_tui.config import ConfigError, Settings, load_settings


def _fail(message: str) -> None:
    click.echo(f"waterspider: {message}", err=True)
    raise SystemExit(2)


def _settings(config: Path | None, overrides: dict[str, Any]) -> Settings:
    try:
        return load_settings(config, overrides)
    except ConfigError as error:
        _fail(str(error))
        raise


def _overrides(**flags: Any) -> dict[str, Any]:
    """CLI flags as nested settings overrides, leaving out the ones not given."""
    tree: dict[str, Any] = {}
    mapping = {
        "issues": ("issues", "dir"), "repo": ("github", "repos"), "github_api_url": ("github", "api_url"),
        "capacity": ("scheduler", "capacity"), "agent": ("agent", "kind"), "store": ("store", "path"),
        "repo_path": ("workspace", "repo_path"), "base_branch": ("workspace", "base_branch"), "theme": ("ui", "theme"),
    }
    for name, value in flags.items():
        if value is None or value == () or name not in mapping:
            continue
        section, field = mapping[name]
        tree.setdefault(section, {})[field] = list(value) if isinstance(value, tuple) else value
    return tree


def _start(settings: Settings, *, no_ui: bool, json_lines: bool, until_idle: bool) -> int:
    from waterspider_tui.engine.wiring import build_engine

    try:
        engine = build_engine(settings)
    except ConfigError as error:
        _fail(str(error))
        raise
    leave_running = settings.sessions.on_exit == "leave"
    if no_ui or json_lines:
        from waterspider_tui.engine import EngineLocked
        from waterspider_tui.headless import run_headless

        try:
            return asyncio.run(run_headless(engine, json_lines=json_lines, until_idle=until_idle, leave_running=leave_running))
        except EngineLocked as error:
            _fail(str(error))
            raise
    from waterspider_tui.ui.app import run_ui

    return run_ui(engine, lambda: engine.run(until_idle=until_idle), settings=settings)


_common = [
    click.option("--config", type=click.Path(path_type=Path), help="waterspider.toml to read (default: ./waterspider.toml if present)."),
    click.option("--capacity", type=click.IntRange(1, 1000), help="Sessions running at once (default 5)."),
    click.option("--agent", type=click.Choice(["claude", "codex", "command", "simulated"]), help="Which agent runs the issues."),
    click.option("--store", type=click.Path(path_type=Path), help="SQLite state file (default .waterspider/state.db in the repository)."),
    click.option("--no-ui", is_flag=True, help="No control center: print one line per event."),
    click.option("--json", "json_lines", is_flag=True, help="Print events as JSON lines (implies --no-ui)."),
    click.option("--theme", help="Control center theme (waterspider-dark, waterspider-light, waterspider-high-contrast)."),
]


def common(function: Any) -> Any:
    for option in reversed(_common):
        function = option(function)
    return function


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="waterspider-tui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Turn a backlog of issues into finished work with headless coding agents."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@cli.command()
@common
@click.option("--issues", type=click.Path(path_type=Path), help="A folder of Markdown issues (the embedded source).")
@click.option("--repo", multiple=True, help="GitHub repository owner/name to poll (repeatable).")
@click.option("--github-api-url", help="GitHub REST API root (GitHub Enterprise Server, tests).")
@click.option("--repo-path", type=click.Path(path_type=Path), help="The git repository the worktrees are made from (default: .).")
@click.option("--base-branch", help="Branch issue branches start from (default: the current branch).")
@click.option("--until-idle", is_flag=True, help="Exit once nothing runs and nothing can start.")
def run(config: Path | None = None, no_ui: bool = False, json_lines: bool = False, until_idle: bool = False, **flags: Any) -> None:
    """Poll issues and run agents on them (the default command)."""
    settings = _settings(config, _overrides(**flags))
    raise SystemExit(_start(settings, no_ui=no_ui, json_lines=json_lines, until_idle=until_idle))


@cli.command()
@common
@click.option("--speed", type=click.FloatRange(0.01, 100.0), default=1.0, show_default=True, help="How fast simulated sessions go (2 = twice as fast).")
@click.option("--fail-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of simulated sessions that fail.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated agents (same seed, same run).")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help="Keep the demo here instead of a fresh temporary folder.")
def demo(config: Path | None = None, no_ui: bool = False, json_lines: bool = False, speed: float = 1.0, fail_rate: float = 0.0, seed: int = 0, folder: Path | None = None, **flags: Any) -> None:
    """Run twenty sample issues through simulated agents in real git worktrees."""
    from waterspider_tui.demo import prepare_demo

    repo, issues = prepare_demo(folder)
    overrides = _overrides(**flags)
    overrides.setdefault("issues", {}).update(dir=issues, poll_interval_s=1.0)
    overrides.setdefault("workspace", {})["repo_path"] = repo
    agent = overrides.setdefault("agent", {})
    agent.setdefault("kind", "simulated")
    agent["options"] = {"duration_s": 3.0 / speed, "fail_rate": fail_rate, "seed": seed}
    overrides.setdefault("sessions", {}).update(retry_backoff_s=1.0, stall_timeout_s=60.0)
    settings = _settings(config, overrides)
    if not json_lines:
        click.echo(f"demo repository: {repo}\ndemo issues:     {issues}", err=True)
    raise SystemExit(_start(settings, no_ui=no_ui, json_lines=json_lines, until_idle=no_ui or json_lines))


def _read_store(config: Path | None, store: Path | None, repo_path: Path | None) -> Any:
    from waterspider_tui.core.state import replay
    from waterspider_tui.store.event_log import EventLog, SchemaError

    settings = _settings(config, _overrides(store=store, repo_path=repo_path))
    path = settings.store_path()
    if not path.exists():
        _fail(f"no state at {path}: nothing has run here yet (use --store or --repo-path)")
    try:
        log = EventLog(path, read_only=True)
        return settings, replay(log.read())
    except SchemaError as error:
        _fail(str(error))


@cli.command()
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--store", type=click.Path(path_type=Path))
@click.option("--repo-path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def status(config: Path | None, store: Path | None, repo_path: Path | None, as_json: bool) -> None:
    """Print the queues from the store without starting anything."""
    from waterspider_tui.core.scheduler import plan
    from waterspider_tui.status_text import status_dict, status_lines

    settings, snapshot = _read_store(config, store, repo_path)
    current = plan(snapshot, snapshot.now, settings.scheduler.to_core())
    if as_json:
        click.echo(json.dumps(status_dict(snapshot, current), indent=2))
    else:
        click.echo("\n".join(status_lines(snapshot, current)))


@cli.command()
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--issues", type=click.Path(path_type=Path), help="Plan a folder of Markdown issues.")
@click.option("--store", type=click.Path(path_type=Path), help="Plan from a store instead.")
@click.option("--repo-path", type=click.Path(path_type=Path))
@click.option("--capacity", type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def plan(config: Path | None, issues: Path | None, store: Path | None, repo_path: Path | None, capacity: int | None, as_json: bool) -> None:
    """Dry run: the dispatch order with scores, and why every other issue waits."""
    from waterspider_tui.planning import plan_command

    settings = _settings(config, _overrides(issues=issues, store=store, repo_path=repo_path, capacity=capacity))
    try:
        text = plan_command(settings, from_store=store is not None or (issues is None and settings.issues.dir is None), as_json=as_json)
    except ConfigError as error:
        _fail(str(error))
        raise
    click.echo(text)


@cli.group()
def log() -> None:
    """Inspect saved session logs."""


@log.command("summarize")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agent", type=click.Choice(["claude", "codex", "command", "simulated"]), help="Agent that wrote the log (detected when left out).")
@click.option("--json", "as_json", is_flag=True)
def log_summarize(path: Path, agent: str | None, as_json: bool) -> None:
    """Print the parsed summary of a session log: outcome, error class, turns, tools, cost."""
    from waterspider_tui.adapters.agents.summarize import format_summary, summarize_log

    summary = summarize_log(path, agent)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else format_summary(summary))


@cli.command()
@click.option("--repo-path", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--issue", "numbers", type=int, multiple=True, help="Only these issue numbers (default: all).")
@click.option("--delete-branches", is_flag=True, help="Also delete the feature/issue-N branches.")
def clean(repo_path: Path, numbers: tuple[int, ...], delete_branches: bool) -> None:
    """Remove issue worktrees (the operator's own checkout is never touched)."""
    from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager

    try:
        manager = WorkspaceManager(repo_path)
    except WorkspaceError as error:
        _fail(str(error))
        raise
    targets = numbers or tuple(int(path.name.rsplit("-", 1)[1]) for path in manager.existing() if path.name.rsplit("-", 1)[1].isdigit())
    for number in targets:
        if manager.remove(number, delete_branch=delete_branches):
            click.echo(f"removed worktree of #{number}")
    if not numbers:
        manager.drain_pool()


def main() -> None:
    cli(prog_name="waterspider")

from waterspider_tui.simulation.command import simulate_command  # noqa: E402  (last, so the group exists)
cli.add_command(simulate_command)
