"""What removing a worktree or deleting a branch would lose: changes, untracked files, commits on no other branch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import git

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class PendingWork:
    changed: int = 0
    """Tracked files staged or modified."""
    untracked: int = 0
    """Files git does not track and does not ignore."""
    loose_commits: int = 0
    """Commits reachable only from a detached HEAD: removing the worktree drops them."""

    def describe(self) -> str:
        parts = [
            _count(self.changed, "uncommitted change"),
            _count(self.untracked, "untracked file"),
            _count(self.loose_commits, "commit on no branch", "commits on no branch"),
        ]
        return ", ".join(part for part in parts if part)


def status_entries(path: Path) -> list[tuple[str, str]]:
    """(two-letter code, file) for each entry of `git status`, without writing the index."""
    output = git.Git(str(path)).execute(
        ["git", "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all"],
    )
    entries = []
    fields = iter(str(output).split("\0"))
    for field in fields:
        if len(field) < 4:
            continue
        entries.append((field[:2], field[3:]))
        if field[0] in "RC":
            next(fields, None)  # a rename's second field is its old name
    return entries


def pending_work(repo: git.Repo, path: Path, head: str) -> PendingWork:
    """The work that exists only in this worktree: removing it would lose all of this."""
    entries = status_entries(path)
    untracked = sum(1 for code, _ in entries if code == "??")
    loose = 0 if head.startswith("ref: ") or not head else loose_commits(repo, head)
    return PendingWork(changed=len(entries) - untracked, untracked=untracked, loose_commits=loose)


def checkout_leftovers(path: Path, *, has_index: bool) -> list[str]:
    """Files in a half-made worktree that its interrupted checkout did not write (someone's work).

    With no index git lists every tracked file as deleted and every file on disk as untracked,
    so a file on disk that is not among the deleted ones came from elsewhere. With an index,
    any change at all counts. When git cannot read the worktree (killed before HEAD was
    written, so before any checkout), every file there is someone else's.
    """
    try:
        entries = status_entries(path)
    except git.GitCommandError:
        return sorted(str(file.relative_to(path)) for file in path.rglob("*") if file.name != ".git" and not file.is_dir())
    if has_index:
        return sorted(name for _, name in entries)
    deleted = {name for code, name in entries if code == "D "}
    return sorted(name for code, name in entries if code == "??" and name not in deleted)


def loose_commits(repo: git.Repo, commit: str) -> int:
    """Commits reachable from `commit` but from no branch and no remote-tracking branch."""
    try:
        return int(repo.git.rev_list("--count", commit, "--not", "--branches", "--remotes"))
    except git.GitCommandError:
        return 0


def unmerged_commits(repo: git.Repo, branch: str, base: str) -> int:
    """Commits on `branch` that are neither in `base` nor pushed to any remote-tracking branch."""
    return int(repo.git.rev_list("--count", branch, "--not", base, "--remotes"))


def _count(number: int, singular: str, plural: str = "") -> str:
    if not number:
        return ""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
