"""`waterspider clean`: remove issue worktrees (and branches) without losing work; never the operator's checkout."""

from __future__ import annotations

from pathlib import Path

import click

from waterspider_tui.cli.common import fail, overrides, settings_from


def _running(config: Path | None, repo_path: Path) -> tuple[set[int], set[str]]:
    """Issue numbers and worktrees of the sessions the store says are running (none without a store)."""
    from waterspider_tui.core.models import TaskState
    from waterspider_tui.core.state import replay
    from waterspider_tui.store.event_log import EventLog
    from waterspider_tui.store.store_file import StoreError

    settings = settings_from(config, overrides(repo_path=repo_path))
    path = settings.store_path()
    if not path.exists():
        return set(), set()
    try:
        snapshot = replay(EventLog(path, read_only=True).read())
    except StoreError as error:
        fail(f"{error} (clean reads it to protect running sessions)")
    running = [task for task in snapshot.tasks.values() if task.state is TaskState.RUNNING and task.session is not None]
    return {task.issue.number for task in running}, {task.session.worktree for task in running if task.session is not None}


@click.command()
@click.option("--repo-path", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--issue", "numbers", type=int, multiple=True, help="Only these issue numbers (default: all).")
@click.option("--delete-branches", is_flag=True, help="Also delete the feature/issue-N branches (merged ones; unmerged ones need --force).")
@click.option("--force", is_flag=True, help="Remove worktrees with uncommitted, untracked or ignored work and delete unmerged branches too (never a running session's).")
def clean(repo_path: Path, config: Path | None, numbers: tuple[int, ...], delete_branches: bool, force: bool) -> None:
    """Remove issue worktrees; what would lose work is refused and named, unless --force.

    Work is uncommitted changes, untracked files, commits on no branch, and files git ignores
    other than build output and caches (node_modules, __pycache__, .venv, build, dist, target,
    *.pyc ...): a .env or notes.local is refused by name. A running session's worktree, and
    one on a branch other than its issue's (not made by waterspider), is never touched, with or
    without --force. Exit 1 when something was refused.
    """
    from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager
    from waterspider_tui.adapters.workspace_clean import clean_workspaces

    try:
        manager = WorkspaceManager(repo_path)
    except WorkspaceError as error:
        fail(str(error))
    running_issues, running_worktrees = _running(config, repo_path)
    report = clean_workspaces(
        manager, numbers=numbers, delete_branches=delete_branches, force=force,
        running_issues=running_issues, running_worktrees=running_worktrees,
    )
    for line in report.removed:
        click.echo(f"removed  {line}")
    for line in report.left_alone:
        click.echo(f"left     {line}")
    for line in report.refused:
        click.echo(f"refused  {line}", err=True)
    if not (report.removed or report.left_alone or report.refused):
        click.echo("nothing to clean")
    raise SystemExit(1 if report.refused else 0)
