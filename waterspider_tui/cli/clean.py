"""`waterspider clean`: remove issue worktrees (and branches); never the operator's checkout."""

from __future__ import annotations

from pathlib import Path

import click

from waterspider_tui.cli.common import fail


@click.command()
@click.option("--repo-path", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--issue", "numbers", type=int, multiple=True, help="Only these issue numbers (default: all).")
@click.option("--delete-branches", is_flag=True, help="Also delete the feature/issue-N branches.")
def clean(repo_path: Path, numbers: tuple[int, ...], delete_branches: bool) -> None:
    """Remove issue worktrees (the operator's own checkout is never touched)."""
    from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager

    try:
        manager = WorkspaceManager(repo_path)
    except WorkspaceError as error:
        fail(str(error))
    targets = numbers or tuple(int(path.name.rsplit("-", 1)[1]) for path in manager.existing() if path.name.rsplit("-", 1)[1].isdigit())
    for number in targets:
        if manager.remove(number, delete_branch=delete_branches):
            click.echo(f"removed worktree of #{number}")
    if not numbers:
        manager.drain_pool()
