"""What every command shares: one-line failures (exit 2), settings from flags, starting a run."""

from __future__ import annotations

import asyncio
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from waterspider_tui.config import ConfigError, Settings, load_settings
from waterspider_tui.exit_codes import EXIT_USAGE

AGENT_KINDS = ["claude", "codex", "command", "simulated"]


def fail(message: str) -> NoReturn:
    click.echo(f"waterspider: {message}", err=True)
    raise SystemExit(EXIT_USAGE)


def has_terminal() -> bool:
    """Whether the control center can draw: stdin and stdout are both a terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def this_command() -> str:
    """The command line that started this process, to repeat in a hint."""
    return shlex.join(["waterspider", *sys.argv[1:]])


def settings_from(config: Path | None, overrides: dict[str, Any]) -> Settings:
    try:
        settings = load_settings(config, overrides)
    except ConfigError as error:
        fail(str(error))
    if settings.workspace.repo_path == Path("."):
        # Like git itself: from a folder inside the repository, the repository is its top.
        settings.workspace.repo_path = repository_top(Path(".")) or Path(".")
    return settings


def scheduler_config(settings: Settings) -> Any:
    """The scheduler's settings as a run uses them (dependants wait for merges when pull requests are a step)."""
    from dataclasses import replace

    return replace(settings.scheduler.to_core(), dependants_wait_for=settings.pipeline.waits_for())


def repository_top(folder: Path) -> Path | None:
    """The top of the git checkout (or worktree) holding `folder`, or None outside any."""
    import subprocess

    try:
        found = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    top = found.stdout.strip()
    if found.returncode != 0 or not top:
        return None
    return Path(".") if Path(top).resolve() == folder.resolve() else Path(top)


def overrides(**flags: Any) -> dict[str, Any]:
    """CLI flags as nested settings overrides, leaving out the ones not given."""
    tree: dict[str, Any] = {}
    mapping = {
        "issues": ("issues", "dir"), "repo": ("github", "repos"), "github_api_url": ("github", "api_url"),
        "capacity": ("scheduler", "capacity"), "agent": ("agent", "kind"), "store": ("store", "path"),
        "repo_path": ("workspace", "repo_path"), "base_branch": ("workspace", "base_branch"), "theme": ("ui", "theme"),
        "report": ("report", "out"),
    }
    for name, value in flags.items():
        if value is None or value == () or name not in mapping:
            continue
        section, field = mapping[name]
        tree.setdefault(section, {})[field] = list(value) if isinstance(value, tuple) else value
    return tree


@dataclass(frozen=True)
class RunEnd:
    """How a run ended: its exit code, and how many sessions were left running to reattach."""

    code: int
    left_running: int = 0


def start_run(settings: Settings, *, no_ui: bool, json_lines: bool, until_idle: bool, reattach: str | None = None) -> RunEnd:
    """Build the engine and run it with the control center, or headless.

    The control center needs a terminal: without one this fails (exit 2) pointing at `--no-ui`
    before anything starts. Sessions left running at the end get a line saying how to reattach
    (`reattach`, by default the command that started this run).
    """
    from waterspider_tui.engine import EngineLocked
    from waterspider_tui.engine.wiring import build_engine
    from waterspider_tui.store.store_file import StoreError
    from waterspider_tui.text.run_state import left_running_text

    headless = no_ui or json_lines
    if settings.report.out is not None:
        _check_report_format(settings.report.out)
    if not headless:
        from waterspider_tui.ui.settings_check import check_ui_settings

        try:
            check_ui_settings(settings.ui.theme, settings.ui.theme_dir, settings.ui.keymap)
        except ConfigError as error:
            fail(str(error))
    if not headless and not has_terminal():
        fail("the control center needs a terminal (stdin and stdout); use --no-ui for lines, or --json")
    try:
        engine = build_engine(settings)
    except (ConfigError, StoreError) as error:
        fail(str(error))
    engine.locks.keep_until_exit()
    leave_running = settings.sessions.on_exit == "leave"
    try:
        if headless:
            from waterspider_tui.headless import run_headless

            code = asyncio.run(run_headless(engine, json_lines=json_lines, until_idle=until_idle, leave_running=leave_running))
        else:
            from waterspider_tui.ui.app import run_ui

            code = run_ui(engine, lambda: engine.run(until_idle=until_idle), settings=settings)
    except EngineLocked as error:
        fail(str(error))
    if settings.report.out is not None:
        _write_run_report(engine, settings.report.out)
    left = len(engine.snapshot.running())
    if left:
        try:
            click.echo(f"waterspider: {left_running_text(left, this_command() if reattach is None else reattach)}", err=True)
        except OSError:  # the terminal went away (the hangup that ended the run): the exit code still tells
            pass
    return RunEnd(code, left)


def _check_report_format(out: Path) -> None:
    """Before anything runs: a report file the run could not write in its format is a usage error."""
    from waterspider_tui.reporting.report_files import UnknownReportFormat, format_of

    try:
        format_of(None, out)
    except UnknownReportFormat as error:
        fail(str(error))


def _write_run_report(engine: Any, out: Path) -> None:
    """The results report of the store the run used, where `--report`/`[report] out` asked (a CI job attaches it)."""
    import time

    from waterspider_tui.headless import stored_results
    from waterspider_tui.reporting.report_files import write_report

    try:
        click.echo(f"waterspider: {write_report(stored_results(engine), out, generated_at=time.time())}", err=True)
    except OSError as error:
        click.echo(f"waterspider: cannot write the report {out}: {error.strerror or error}", err=True)


_COMMON = [
    click.option("--config", type=click.Path(path_type=Path), help="waterspider.toml to read (default: ./waterspider.toml if present)."),
    click.option("--capacity", type=click.IntRange(1, 1000), help="Sessions running at once (default 5)."),
    click.option("--agent", type=click.Choice(AGENT_KINDS), help="Which agent runs the issues."),
    click.option("--store", type=click.Path(path_type=Path), help="SQLite state file (default .waterspider/state.db in the repository)."),
    click.option("--no-ui", is_flag=True, help="No control center: print one line per event."),
    click.option("--json", "json_lines", is_flag=True, help="Print events as JSON lines (implies --no-ui)."),
    click.option("--report", type=click.Path(path_type=Path, dir_okay=False),
                 help="At the end, write the results report here (.md, .json or .html by the suffix)."),
    click.option("--theme", help="Control center theme (waterspider-dark, waterspider-light, waterspider-high-contrast)."),
]


def run_options(function: Any) -> Any:
    for option in reversed(_COMMON):
        function = option(function)
    return function


def stored_events(config: Path | None, store: Path | None, repo_path: Path | None) -> tuple[Settings, list[Any]]:
    """The settings and every event of an existing store, read-only; one line and exit 2 if it cannot be read."""
    from waterspider_tui.store.store_file import StoreError

    settings = settings_from(config, overrides(store=store, repo_path=repo_path))
    path = settings.store_path()
    if not path.exists():
        fail(f"no state at {path}: nothing has run here yet (use --store or --repo-path)")
    try:
        return settings, events_at(path)
    except StoreError as error:
        fail(str(error))


def events_at(path: Path) -> list[Any]:
    """Every event of the store at `path`, read without taking it from a run; StoreError when it cannot be read."""
    from waterspider_tui.store.event_log import EventLog

    log = EventLog(path, read_only=True)
    try:
        return list(log.read())
    finally:
        log.close()


def read_store(config: Path | None, store: Path | None, repo_path: Path | None) -> tuple[Settings, Any]:
    """The settings and the replayed snapshot of an existing store, read-only."""
    from waterspider_tui.core.state import replay

    settings, events = stored_events(config, store, repo_path)
    return settings, replay(events)
