"""`waterspider clean`: remove issue worktrees and branches, never losing work nor touching a running session."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import git

from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.adapters.workspace_checks import Found, WorkspaceError
from waterspider_tui.adapters.workspace_ignored import describe_ignored, ignored_work
from waterspider_tui.adapters.workspace_locks import describe, processes_in
from waterspider_tui.adapters.workspace_losses import checkout_leftovers, pending_work, unmerged_commits

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

ISSUE_NAME = re.compile(r"(?:^|-)issue-(\d+)$")
"""`issue-7`, or `owner-repo-issue-7` with several repositories: a worktree folder or a branch's last part."""

FORCE_HINT = "use --force to remove anyway"


@dataclass
class CleanReport:
    """What `clean_workspaces` did, one line for the operator per worktree, branch or pool entry."""

    removed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Would lose work (given again with force=True, removed) or is in use (never removed)."""
    left_alone: list[str] = field(default_factory=list)
    """Not ours to remove: folders that are not worktrees of this repository, branches still checked out."""


def clean_workspaces(
    manager: WorkspaceManager,
    *,
    numbers: Collection[int] = (),
    delete_branches: bool = False,
    force: bool = False,
    running_issues: Collection[int] = (),
    running_worktrees: Collection[str | Path] = (),
) -> CleanReport:
    """Remove issue worktrees (only `numbers`, or all and the warm pool), and with `delete_branches` their branches.

    Refused unless `force`: a worktree with uncommitted changes, untracked files, git-ignored files
    that are not build output (`workspace_ignored`) or commits on no branch, and a branch with
    commits neither in the base nor pushed. Never, even with `force`: the worktree of a running
    session (`running_issues`, `running_worktrees`, or any live process working in it), anything
    that is not a worktree of this repository, and one on a branch that is not its issue's.
    """
    report = CleanReport()
    running = {os.path.realpath(path) for path in running_worktrees}
    entries = _issue_entries(manager, numbers)
    users = processes_in(entries)
    for entry in entries:
        _clean_worktree(manager, entry, force, users[entry], running_issues, running, report)
    try:
        manager.repo.git.worktree("prune")
    except git.GitCommandError:
        pass
    if delete_branches:
        for branch in _issue_branches(manager, numbers):
            _clean_branch(manager, branch, force, running_issues, report)
    if not numbers:
        removed, kept = manager.drain_pool()
        if removed:
            report.removed.append(f"warm pool: {removed} prepared worktree{'s' if removed > 1 else ''} removed")
        report.left_alone.extend(kept)
    return report


def _issue_entries(manager: WorkspaceManager, numbers: Collection[int]) -> list[Path]:
    """The folders in the worktrees folder to consider: the named issues', or all but the pool."""
    if not manager.worktrees.is_dir():
        return []
    entries = []
    for entry in sorted(manager.worktrees.iterdir()):
        match = ISSUE_NAME.search(entry.name)
        if entry != manager.pool_dir and (not numbers or (match is not None and int(match.group(1)) in numbers)):
            entries.append(entry)
    return entries


def _clean_worktree(manager: WorkspaceManager, entry: Path, force: bool, users: list[int], running_issues: Collection[int], running: set[str], report: CleanReport) -> None:
    name = entry.name
    match = ISSUE_NAME.search(name)
    if match is None:
        report.left_alone.append(f"{name}: not an issue worktree — left alone")
        return
    if int(match.group(1)) in running_issues or os.path.realpath(entry) in running or str(entry) in running:
        report.refused.append(f"{name}: a session is running in it — left alone, even with --force")
        return
    if users:
        report.refused.append(f"{name}: in use by {describe(users)} — left alone, even with --force")
        return
    found = manager.inspect(entry)
    if found.found is Found.FOREIGN:
        report.left_alone.append(f"{name}: {found.reason}")
        return
    if found.head.startswith("ref: refs/heads/") and found.head != f"ref: refs/heads/feature/{name}":
        # `run` refuses such a worktree as not its own; it is someone's, so clean leaves it too.
        other = found.head.removeprefix("ref: refs/heads/")
        report.left_alone.append(f"{name}: on branch {other}, not feature/{name}: not made by waterspider — left alone (git worktree remove {entry} removes it)")
        return
    if found.found is Found.EMPTY:
        manager.discard(entry)
        report.removed.append(f"{name}: empty folder removed")
        return
    try:
        if found.found is Found.HALF_MADE:
            leftovers = checkout_leftovers(entry, has_index=found.admin is not None and (found.admin / "index").exists())
            loss = f"{len(leftovers)} file{'s' if len(leftovers) > 1 else ''} its interrupted checkout did not write" if leftovers else ""
        else:
            parts = (pending_work(manager.repo, entry, found.head).describe(), describe_ignored(ignored_work(entry)), f"locked ({found.locked})" if found.locked else "")
            loss = ", ".join(part for part in parts if part)
        if loss and not force:
            report.refused.append(f"{name}: {loss} — {FORCE_HINT}")
            return
        manager.discard(entry)
    except (git.GitCommandError, WorkspaceError) as error:
        detail = error.stderr if isinstance(error, git.GitCommandError) else ""
        report.refused.append(f"{name}: not removed: {(detail or str(error)).strip()}")
        return
    kind = "half-made worktree" if found.found is Found.HALF_MADE else "worktree"
    report.removed.append(f"{name}: {kind} removed" + (f", with {loss}" if loss else ""))


def _issue_branches(manager: WorkspaceManager, numbers: Collection[int]) -> list[str]:
    """Local `feature/...issue-N` branches, their worktrees present or not."""
    names = manager.repo.git.for_each_ref("--format=%(refname:short)", "refs/heads/feature/").splitlines()
    branches = []
    for branch in names:
        match = ISSUE_NAME.search(branch.removeprefix("feature/"))
        if match and (not numbers or int(match.group(1)) in numbers):
            branches.append(branch)
    return sorted(branches)


def _checked_out(manager: WorkspaceManager) -> dict[str, str]:
    """Branch → the worktree it is checked out in (the operator's checkout included)."""
    checked_out, path = {}, ""
    for line in manager.repo.git.worktree("list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = line[len("worktree "):]
        elif line.startswith("branch refs/heads/"):
            checked_out[line[len("branch refs/heads/"):]] = path
    return checked_out


def _clean_branch(manager: WorkspaceManager, branch: str, force: bool, running_issues: Collection[int], report: CleanReport) -> None:
    match = ISSUE_NAME.search(branch)
    where = _checked_out(manager).get(branch)
    if where is not None:
        report.left_alone.append(f"{branch}: kept, checked out at {where}")
        return
    if match and int(match.group(1)) in running_issues:
        report.refused.append(f"{branch}: a session is running on it — left alone, even with --force")
        return
    base = manager.base_branch
    try:
        unmerged = unmerged_commits(manager.repo, branch, base)
    except git.GitCommandError as error:
        report.refused.append(f"{branch}: cannot tell what is not merged into {base}: {(error.stderr or str(error)).strip()}")
        return
    loss = f"{unmerged} commit{'s' if unmerged > 1 else ''} not merged into {base}" if unmerged else ""
    if loss and not force:
        report.refused.append(f"{branch}: {loss} — use --force to delete anyway")
        return
    manager.delete_branch(branch)
    report.removed.append(f"{branch}: branch deleted" + (f", with {loss}" if loss else ""))
