"""`waterspider requeue`: put failed or cancelled issues back in the queue from the command line."""

from __future__ import annotations

import time
from pathlib import Path

import click

from waterspider_tui.cli.common import fail, overrides, settings_from
from waterspider_tui.cli.running_orchestrator import carry_out


@click.command()
@click.argument("numbers", nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed issue (with --class, only that class).")
@click.option("--class", "error_class", help="With --failed: only failures of this class (auth, crashed, ...).")
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--store", type=click.Path(path_type=Path))
@click.option("--repo-path", type=click.Path(path_type=Path))
def requeue(numbers: tuple[str, ...], all_failed: bool, error_class: str | None, config: Path | None, store: Path | None, repo_path: Path | None) -> None:
    """Requeue issues (`12`, `#12`, `owner/name#12`) or every failed one; a running orchestrator (even `--no-ui`) picks them up."""
    from waterspider_tui.core import commands as cmd
    from waterspider_tui.core.models import TaskState

    if not numbers and not all_failed:
        fail("name the issues to requeue, or give --failed")
    if error_class and not all_failed:
        fail("--class goes with --failed")
    if error_class:
        _check_class(error_class)
    settings = settings_from(config, overrides(store=store, repo_path=repo_path))
    path = settings.store_path()
    if not path.exists():
        fail(f"no state at {path}: nothing has run here yet (use --store or --repo-path)")

    def requeues(snapshot: object) -> list[cmd.Command]:
        targets = list(numbers)
        if all_failed:
            targets += [
                task.key for task in snapshot.tasks_in(TaskState.FAILED)  # type: ignore[attr-defined]
                if not error_class or (task.result is not None and task.result.error_class is not None and task.result.error_class.value == error_class)
            ]
        return [cmd.Requeue(issue=target, by="command line") for target in dict.fromkeys(targets)]

    outcome = carry_out(path, requeues, now=time.time)
    if not outcome.replies:
        click.echo("nothing to requeue" + (f": no issue failed as {error_class}" if error_class else ": no issue failed"))
        return
    for reply in outcome.replies:
        click.echo(reply.message if reply.ok else f"waterspider: {reply.message}", err=not reply.ok)
    if any(not reply.ok for reply in outcome.replies):
        raise SystemExit(1)


def _check_class(error_class: str) -> None:
    """An unknown class is a typo, not 'nothing failed that way': exit 2 with the nearest known names."""
    import difflib

    from waterspider_tui.core.models import ErrorClass

    known = [member.value for member in ErrorClass]
    if error_class in known:
        return
    close = difflib.get_close_matches(error_class, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    fail(f"no failure class {error_class!r}: {hint}known classes: {', '.join(known)}")
