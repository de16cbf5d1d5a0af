"""`waterspider requeue`: put failed or cancelled issues back in the queue from the command line."""

from __future__ import annotations

import time
from pathlib import Path

import click

from waterspider_tui.cli.common import fail, overrides, settings_from


@click.command()
@click.argument("numbers", nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed issue (with --class, only that class).")
@click.option("--class", "error_class", help="With --failed: only failures of this class (auth, crashed, ...).")
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--store", type=click.Path(path_type=Path))
@click.option("--repo-path", type=click.Path(path_type=Path))
def requeue(numbers: tuple[str, ...], all_failed: bool, error_class: str | None, config: Path | None, store: Path | None, repo_path: Path | None) -> None:
    """Requeue issues (`12`, `#12`, `owner/name#12`) or every failed one; run again to work on them."""
    from waterspider_tui.core import commands as cmd
    from waterspider_tui.core.models import TaskState
    from waterspider_tui.engine.locks import EngineLocked, run_locks
    from waterspider_tui.store.state_store import StateStore
    from waterspider_tui.store.event_log import EventLog
    from waterspider_tui.store.store_file import StoreError

    if not numbers and not all_failed:
        fail("name the issues to requeue, or give --failed")
    if error_class and not all_failed:
        fail("--class goes with --failed")
    settings = settings_from(config, overrides(store=store, repo_path=repo_path))
    path = settings.store_path()
    if not path.exists():
        fail(f"no state at {path}: nothing has run here yet (use --store or --repo-path)")
    locks = run_locks(path)
    try:
        locks.acquire()
    except EngineLocked:
        fail(f"an orchestrator is running on {path}: requeue in its control center (r, or ctrl+p 'requeue all failed'), or stop it first")
    try:
        state = StateStore(EventLog(path))
    except StoreError as error:
        locks.release()
        fail(str(error))
    try:
        snapshot = state.snapshot
        targets = list(numbers)
        if all_failed:
            targets += [
                task.key for task in snapshot.tasks_in(TaskState.FAILED)
                if not error_class or (task.result is not None and task.result.error_class is not None and task.result.error_class.value == error_class)
            ]
        if not targets:
            click.echo("nothing to requeue" + (f": no issue failed as {error_class}" if error_class else ": no issue failed"))
            return
        problems = 0
        for target in dict.fromkeys(targets):
            try:
                events, message = cmd.apply_command(state.snapshot, cmd.Requeue(issue=target, by="command line"), time.time())
            except ValueError as error:
                click.echo(f"waterspider: {error}", err=True)
                problems += 1
                continue
            state.record(events)
            click.echo(message)
        if problems:
            raise SystemExit(1)
    finally:
        state.log.close()
        locks.release()
