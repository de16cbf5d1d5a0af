"""A stacked dependant's other blockers merged into its fresh worktree, before its agent starts.

Its branch starts from its first unmerged blocker's branch; each other unmerged blocker's branch is
merged in after it, in dependency order, a merge commit each, so the agent starts from all the work
it depends on. Where two blockers change the same lines nothing is left half merged: the merge is
aborted and `BlockersConflict` names the issues and the files. `check_blockers` finds the same
verdict beforehand without a worktree (git merge-tree), so a dependant whose blockers conflict is
held before any session of it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import git

from waterspider_tui.adapters.workspace_checks import WorkspaceError
from waterspider_tui.core.readiness import short_key

Merge = tuple[str, str]
"""(blocker issue, its branch)."""


class BlockersConflict(WorkspaceError):
    """Two or more of a dependant's unmerged blockers change the same lines of the same files."""

    def __init__(self, message: str, issues: tuple[str, ...], files: tuple[str, ...]) -> None:
        super().__init__(message)
        self.issues = issues
        self.files = files


def merge_blockers(repo: git.Repo, path: Path, branch: str, base: str, stacked_on: Merge, merges: Sequence[Merge], dependant: str) -> list[str]:
    """Merge each blocker branch not yet in the worktree's branch; the issues merged now, in order.

    `stacked_on` is the blocker the branch started from and `base` the branch they all build on
    (to tell which blockers touched a conflicting file). Raises BlockersConflict, with the merge
    aborted, when a blocker's work conflicts with the ones before it.
    """
    worktree = git.Git(str(path))
    merged: list[str] = []
    before: list[Merge] = [stacked_on] if stacked_on[1] else []
    for issue, blocker_branch in merges:
        if _contains(repo, branch, blocker_branch):
            before.append((issue, blocker_branch))
            continue
        message = merge_message(blocker_branch, issue, branch, dependant)
        try:
            worktree.merge("--no-ff", "--no-edit", "-m", message, blocker_branch)
        except git.GitCommandError as error:
            files = tuple(line for line in _quiet(worktree, "diff", "--name-only", "--diff-filter=U").splitlines() if line)
            _quiet(worktree, "merge", "--abort")
            if not files:
                detail = (error.stderr or str(error)).strip().replace("\n", " ")
                raise WorkspaceError(f"merging {blocker_branch} ({issue}) into {branch} failed: {detail}") from error
            raise _conflict(repo, base, dependant, (issue, blocker_branch), before, files) from error
        merged.append(issue)
        before.append((issue, blocker_branch))
    return merged


@dataclass(frozen=True)
class BlockersCheck:
    """Whether a dependant's blockers' branches merge, and the commits that verdict was made on."""

    heads: tuple[tuple[str, str], ...]
    """(branch, commit) of the dependant's branch (when it exists) and of each blocker's branch."""
    conflict: BlockersConflict | None = None
    judged: bool = True
    """False when the heads were those the caller had judged already (`unless_heads`): nothing was merged."""


_CHECKER = ("-c", "user.name=waterspider", "-c", "user.email=waterspider@localhost")
"""An identity for the check's scratch merge commits, which no branch points to (a repository may have none)."""


def check_blockers(
    repo: git.Repo, branch: str, base: str, stacked_on: Merge, merges: Sequence[Merge], dependant: str,
    unless_heads: tuple[tuple[str, str], ...] = (),
) -> BlockersCheck:
    """What `merge_blockers` would meet for the worktree of `branch`, found with `git merge-tree`:
    no worktree, branch or index is touched (the scratch merges are unreferenced objects).

    The merges start from `branch` where it exists (a retry keeps its work), otherwise from
    `stacked_on`'s branch, as `prepare` does. Where the branches still point where `unless_heads`
    says, the verdict cannot have changed: only the heads are read (`judged` False)."""
    names = ([branch] if branch in repo.heads else []) + [name for _, name in (stacked_on, *merges) if name]
    heads = tuple((name, _head(repo, name)) for name in dict.fromkeys(names))
    if unless_heads and heads == unless_heads:
        return BlockersCheck(heads, judged=False)
    current = dict(heads).get(branch) or dict(heads).get(stacked_on[1], "")
    before: list[Merge] = [stacked_on] if stacked_on[1] else []
    for issue, blocker_branch in merges:
        if not current:
            break
        if _contains(repo, current, blocker_branch):
            before.append((issue, blocker_branch))
            continue
        status, out, err = repo.git.execute(
            ["git", "merge-tree", "--write-tree", "--name-only", "--no-messages", current, blocker_branch],
            with_extended_output=True, with_exceptions=False,
        )
        lines = [line for line in out.splitlines() if line]
        if status == 1 and len(lines) > 1:
            return BlockersCheck(heads, _conflict(repo, base, dependant, (issue, blocker_branch), before, tuple(lines[1:])))
        if status != 0 or not lines:
            raise WorkspaceError(f"checking {blocker_branch} ({issue}) against {branch} failed: {(err or out).strip()}")
        current = repo.git.execute(["git", *_CHECKER, "commit-tree", lines[0], "-p", current, "-p", blocker_branch, "-m", f"check {blocker_branch}"])
        before.append((issue, blocker_branch))
    return BlockersCheck(heads)


def merge_message(blocker_branch: str, issue: str, branch: str, dependant: str) -> str:
    """The merge commit's subject: `Merge feature/issue-3 (#3) into feature/issue-5: #5 depends on it`."""
    repo_name = dependant.rpartition("#")[0]
    return f"Merge {blocker_branch} ({short_key(issue, repo_name)}) into {branch}: {short_key(dependant, repo_name)} depends on it"


def _conflict(repo: git.Repo, base: str, dependant: str, merging: Merge, before: list[Merge], files: tuple[str, ...]) -> BlockersConflict:
    """The conflict told precisely: which earlier blockers changed the files `merging` conflicts on."""
    touching = [issue for issue, branch in before if set(files) & set(_changed(repo, base, branch))] or [issue for issue, _ in before]
    return conflict_of(dependant, touching, merging[0], files)


def conflict_of(dependant: str, touching: Sequence[str], merging: str, files: tuple[str, ...]) -> BlockersConflict:
    """`merging`'s work conflicting with that of the blockers in `touching` (merged before it) on `files`."""
    repo_name = dependant.rpartition("#")[0]
    issues = (*touching, merging)
    names = [short_key(issue, repo_name) for issue in issues]
    who = " and ".join(names) if len(names) == 2 else ", ".join(names[:-1]) + " and " + names[-1]
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    noun = "file" if len(files) == 1 else "files"
    message = (
        f"{who} change the same lines ({noun} {shown}), so {short_key(dependant, repo_name)} cannot start from all of their work:"
        f" it waits until one of them is merged, or the conflict is resolved on one of their branches"
    )
    return BlockersConflict(message, issues, files)


def _head(repo: git.Repo, branch: str) -> str:
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")  # type: ignore[no-any-return]
    except git.GitCommandError:
        return ""


def _changed(repo: git.Repo, base: str, branch: str) -> list[str]:
    try:
        return repo.git.diff("--name-only", f"{base}...{branch}").splitlines()
    except git.GitCommandError:
        return []


def _contains(repo: git.Repo, branch: str, other: str) -> bool:
    try:
        repo.git.merge_base("--is-ancestor", other, branch)
    except git.GitCommandError:
        return False
    return True


def _quiet(worktree: git.Git, *args: str) -> str:
    try:
        return worktree.execute(["git", *args])  # type: ignore[no-any-return]
    except git.GitCommandError:
        return ""
