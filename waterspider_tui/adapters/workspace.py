"""Git worktrees per issue: `.worktrees/issue-N` on branch `feature/issue-N`, via GitPython."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import git

from waterspider_tui.adapters.workspace_checks import Found, WorkspaceError, inspect_worktree
from waterspider_tui.adapters.workspace_exclude import add_exclude, exclude_entry
from waterspider_tui.adapters.workspace_locks import clear_once_settled, describe, users_once_settled
from waterspider_tui.adapters.workspace_losses import checkout_leftovers, loose_commits
from waterspider_tui.adapters.workspace_pool import WarmPool
from waterspider_tui.adapters.workspace_stacking import BlockersConflict, Merge, merge_blockers

if TYPE_CHECKING:
    from waterspider_tui.adapters.workspace_checks import Inspection

log = logging.getLogger(__name__)


ADD_ATTEMPTS = 3
ADD_RETRY_S = 0.2
_RACED = re.compile(r"failed to read .*(commondir|gitdir)|is not a valid (path|directory)|could not lock config file", re.IGNORECASE)
"""git's words when it read another worktree's admin files while they were being written."""


@dataclass(frozen=True)
class Workspace:
    path: Path
    branch: str
    base: str
    reused: bool


def branch_name(number: int, repo: str = "", multi_repo: bool = False) -> str:
    if multi_repo and repo:
        return f"feature/{repo.replace('/', '-')}-issue-{number}"
    return f"feature/issue-{number}"


def start_ref(branch: str) -> str:
    """Where an issue branch that already existed stood when its latest session started: the
    session's commits are the ones after it (the rest were there before, whatever a store says)."""
    return f"refs/waterspider/start/{branch}"


class WorkspaceManager:
    """Creates, reuses and removes issue worktrees; never touches the operator's checkout.

    Everything goes through `git worktree` on the repository, so the operator's own
    working tree, index and current branch are left as they are. Git runs in a folder only
    after `inspect` has found it to be one of this repository's worktrees at exactly that
    path: in anything else git would climb to the operator's checkout, or write to a stranger.
    """

    def __init__(self, repo_path: Path | str, *, base_branch: str | None = None, worktrees_dir: str = ".worktrees", warm_pool: int = 0) -> None:
        try:
            self.repo = git.Repo(repo_path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
            raise WorkspaceError(f"{repo_path} is not a git repository: {error}") from error
        if self.repo.bare:
            raise WorkspaceError(f"{repo_path} is a bare repository; point waterspider at a checkout")
        self.root = Path(self.repo.working_tree_dir or repo_path).resolve()
        configured = self.root / worktrees_dir
        inside = configured.is_relative_to(self.root)
        self.worktrees = configured if inside else Path(os.path.realpath(configured))
        self._top = self.root if inside else self.worktrees
        """No symbolic link is allowed from here down to a worktree (a folder configured outside
        the repository is taken where it resolves, as the operator chose it)."""
        self._admin_root = Path(os.path.realpath(Path(self.repo.common_dir) / "worktrees"))
        self.base_branch = base_branch or self._current_branch()
        self._lock = threading.Lock()
        """git's own ref and config locks make concurrent `worktree add` calls fail at random."""
        self.warm_pool = warm_pool
        """How many checked-out worktrees to keep ready, so a dispatch skips the slow checkout."""
        self.pool_dir = self.worktrees / ".pool"
        self.pool = WarmPool(self.repo, self.pool_dir, self.inspect)
        self._refill_lock = threading.Lock()

    def _current_branch(self) -> str:
        try:
            return self.repo.active_branch.name
        except TypeError:
            return self.repo.head.commit.hexsha

    def path_for(self, number: int, repo: str = "", multi_repo: bool = False) -> Path:
        name = f"{repo.replace('/', '-')}-issue-{number}" if multi_repo and repo else f"issue-{number}"
        return self.worktrees / name

    def inspect(self, path: Path) -> Inspection:
        """What is at `path` (a worktree of ours, half made, absent, or not ours), from files alone."""
        return inspect_worktree(path, top=self._top, admin_root=self._admin_root, repo_root=self.root)

    def prepare(
        self, number: int, repo: str = "", multi_repo: bool = False, base: str | None = None, *,
        stacked_on: str = "", merge: Sequence[Merge] = (),
    ) -> Workspace:
        """The issue's worktree: reused as it was left, taken from the warm pool, or created.

        `base` (a blocker's branch, for a stacked issue) is where a new branch starts instead of
        the base branch; the warm pool's worktrees stand on the base branch, so it is not used then.
        `merge` names the other unmerged blockers (issue, branch) of an issue stacked on several
        (`stacked_on` being the one `base` belongs to): each branch its branch lacks is merged in,
        in that order, before the worktree is handed over. When their work conflicts a worktree made
        just now is removed with its branch (nothing of the agent's is in it yet) and
        BlockersConflict says which issues change which files.

        A complete worktree on its branch is returned without waiting for the lock, so a retry
        never queues behind another issue's slow checkout. A half-made one is checked out
        again; anything that is not ours raises WorkspaceError and is left as it is.
        """
        path = self.path_for(number, repo, multi_repo)
        branch = branch_name(number, repo, multi_repo)
        found = self.inspect(path)
        start = base or self.base_branch
        if found.found is Found.READY and found.head == f"ref: refs/heads/{branch}" and not found.lock_files:
            self._stack(path, branch, stacked_on, base, merge, number, repo, made_now=False)
            self._mark_start(branch)
            return Workspace(path, branch, start, reused=True)
        with self._lock:
            found = self.inspect(path)
            if found.found is Found.HALF_MADE:
                self._remove_half_made(found)
                found = self.inspect(path)
            if found.found is Found.FOREIGN:
                raise WorkspaceError(found.reason)
            if found.found is Found.READY:
                if found.admin is not None:
                    clear_once_settled(path, [found.admin / name for name in found.lock_files])
                self._switch_to(found, branch)
                self._stack(path, branch, stacked_on, base, merge, number, repo, made_now=False)
                self._mark_start(branch)
                return Workspace(path, branch, start, reused=True)
            if found.found is Found.EMPTY:
                path.rmdir()
            made_branch = branch not in self.repo.heads
            self._create(path, branch, base)
            self._stack(path, branch, stacked_on, base, merge, number, repo, made_now=made_branch)
            if not made_branch:
                self._mark_start(branch)
        return Workspace(path, branch, start, reused=False)

    def _mark_start(self, branch: str) -> None:
        """Remember where a branch that already existed stands as its session starts (`start_ref`).

        A branch made just now needs no mark: its base already separates what came before, and an
        old mark left by a deleted branch of that name reaches none of its new commits."""
        # git itself, not an in-process read: a ref read while another git rewrites it can come back empty.
        try:
            self.repo.git.update_ref(start_ref(branch), f"refs/heads/{branch}")
        except git.GitCommandError as error:
            # Only the count suffers (it includes what was there before): not worth failing the session.
            log.warning("could not mark where %s starts: %s", branch, (error.stderr or str(error)).strip())

    def _stack(self, path: Path, branch: str, stacked_on: str, base: str | None, merge: Sequence[Merge], number: int, repo: str, *, made_now: bool) -> None:
        """Merge the other blockers' branches in (see `prepare`)."""
        if not merge:
            return
        dependant = f"{repo or 'local'}#{number}"
        try:
            merge_blockers(self.repo, path, branch, self.base_branch, (stacked_on, base or ""), merge, dependant)
        except BlockersConflict:
            if made_now:
                # Nothing but its blockers' work is on it: the next try starts clean, from what is unmerged then.
                self._discard(path)
                self.repo.git.worktree("prune")
                self.repo.git.branch("-D", branch)
            raise

    def _create(self, path: Path, branch: str, base: str | None = None) -> None:
        self.ignore(self.worktrees)
        for attempt in range(1, ADD_ATTEMPTS + 1):
            try:
                if base is not None or not self.pool.take(path, branch, self.base_branch, self._base_commit()):
                    self.repo.git.worktree("prune")
                    if branch in self.repo.heads:
                        self.repo.git.worktree("add", str(path), branch)
                    else:
                        self.repo.git.worktree("add", "-b", branch, str(path), base or self.base_branch)
                return
            except git.GitCommandError as error:
                detail = (error.stderr or str(error)).strip().replace("\n", " ")
                if attempt < ADD_ATTEMPTS and _RACED.search(detail):
                    # Another worktree (a warm-pool slot) was being made at that moment: git read its
                    # half-written admin files. Nothing of ours was made; ask again.
                    if path.is_dir() and not any(path.iterdir()):
                        path.rmdir()
                    time.sleep(ADD_RETRY_S * attempt)
                    continue
                raise WorkspaceError(f"git worktree add {path.name} on {branch} failed: {detail}") from error

    def _remove_half_made(self, found: Inspection) -> None:
        """Remove a worktree whose checkout never finished, so it is checked out again on its branch.

        The branch and its commits stay. Refused while a live process works in it, or when it
        holds files its checkout did not write (someone's work, kept for them to move out).
        """
        assert found.admin is not None
        lock_files = [found.admin / name for name in (*found.lock_files, "locked")]
        users = users_once_settled(found.path, lock_files)
        if users:
            raise WorkspaceError(f"{found.path} is in use by {describe(users)}: it is being checked out or worked in; try again when that ends")
        for file in lock_files:
            if file.name != "locked":
                file.unlink(missing_ok=True)
        leftovers = checkout_leftovers(found.path, has_index=(found.admin / "index").exists())
        if leftovers:
            shown = ", ".join(leftovers[:5]) + (f" and {len(leftovers) - 5} more" if len(leftovers) > 5 else "")
            raise WorkspaceError(f"{found.reason} but holds files its checkout did not write ({shown}): move them out, then remove it with `waterspider clean --force`")
        try:
            self._discard(found.path)
        except git.GitCommandError as error:
            detail = (error.stderr or str(error)).strip().replace("\n", " ")
            raise WorkspaceError(f"{found.reason}, and removing it to check it out again failed: {detail}") from error

    def _switch_to(self, found: Inspection, branch: str) -> None:
        """Put a worktree left detached (a stop between moving a pool worktree in and switching it)
        back on its branch, so the agent's commits land where they belong.

        Only when nothing gets lost: a worktree on another branch, or detached with commits no
        branch holds, is someone's work and is refused.
        """
        head, path = found.head, found.path
        if head == f"ref: refs/heads/{branch}":
            return
        if head.startswith("ref: "):
            other = head.removeprefix("ref: ").removeprefix("refs/heads/")
            raise WorkspaceError(f"{path} is on branch {other}, not {branch}: switch it back (git -C {path} switch {branch}) or move that work elsewhere")
        if loose_commits(self.repo, head):
            raise WorkspaceError(f"{path} is detached at {head[:12]} with commits on no branch: keep them on a branch (git -C {path} switch -c NAME), then remove or switch it")
        worktree = git.Git(str(path))
        try:
            if branch in self.repo.heads:
                worktree.checkout("-q", branch)
            else:
                worktree.checkout("-q", "-b", branch)
        except git.GitCommandError as error:
            detail = (error.stderr or str(error)).strip().replace("\n", " ")
            raise WorkspaceError(f"worktree {path.name} is not on {branch} and cannot be switched: {detail}") from error

    def _base_commit(self) -> str | None:
        # git itself, not GitPython's one shared object reader: threads reading through it at once
        # read each other's answers, and one waited for ever (tests/adapters/test_workspace_concurrent_starts.py).
        try:
            return self.repo.git.rev_parse("--verify", "--quiet", f"{self.base_branch}^{{commit}}") or None
        except git.GitCommandError:
            return None

    def refill(self) -> int:
        """Check out worktrees for the pool until it holds `warm_pool`; returns how many were made.

        Runs outside the dispatch lock (a detached `worktree add` touches no branch), one
        refill at a time, so dispatch never waits for it. Broken slots are removed first.
        """
        with self._refill_lock:
            self.ignore(self.worktrees)
            return self.pool.refill(self.warm_pool, self.base_branch)

    def drain_pool(self) -> tuple[int, list[str]]:
        """Remove the prepared worktrees (clean-up): how many went, and why each other entry stayed.

        Folders there that are not ours, and slots a live process works in, stay.
        """
        with self._refill_lock, self._lock:
            drained = self.pool.drain()
            self.repo.git.worktree("prune")
        return drained

    def _discard(self, path: Path) -> None:
        """Remove one of our worktrees with whatever it holds; the caller has made sure nothing is lost."""
        self.repo.git.worktree("remove", "--force", "--force", str(path))

    def discard(self, path: Path) -> None:
        """Remove one of this repository's worktrees under the dispatch lock, whatever it holds.

        Only after `inspect` found it READY or HALF_MADE and the caller decided its work may go:
        `workspace_clean` asks first. Anything else raises WorkspaceError.
        """
        with self._lock:
            found = self.inspect(path)
            if found.found is Found.EMPTY:
                path.rmdir()
                return
            if found.found not in (Found.READY, Found.HALF_MADE):
                raise WorkspaceError(found.reason or f"{path} is not a worktree")
            self._discard(path)

    def delete_branch(self, branch: str) -> None:
        """Delete a local branch under the dispatch lock (the caller checked its commits are kept elsewhere)."""
        with self._lock:
            self.repo.git.branch("-D", branch)
            # Its start mark goes with it (a branch made later under that name needs none).
            self.repo.git.update_ref("-d", start_ref(branch), with_exceptions=False)

    def ignore(self, folder: Path) -> None:
        """Keep a folder of ours (worktrees, state) out of the operator's `git status`.

        It goes in `.git/info/exclude`, so no tracked file of the operator's is edited.
        """
        entry = exclude_entry(self.root, folder)
        if entry is not None:
            add_exclude(Path(self.repo.git_dir) / "info" / "exclude", entry)

    def commits_since_base(self, branch: str) -> tuple[int, int]:
        """Commits on the branch beyond the base, and files they changed."""
        try:
            count = int(self.repo.git.rev_list("--count", f"{self.base_branch}..{branch}"))
            names = self.repo.git.diff("--name-only", f"{self.base_branch}...{branch}")
        except git.GitCommandError:
            return 0, 0
        return count, len([line for line in names.splitlines() if line.strip()])

    def remove(self, number: int, repo: str = "", multi_repo: bool = False, *, delete_branch: bool = False) -> bool:
        """Remove the issue's worktree with whatever it holds (and its branch if asked); True if something was removed.

        A primitive: `workspace_clean.clean_workspaces` first checks what would be lost. A folder
        that is not one of our worktrees raises WorkspaceError and stays.
        """
        path = self.path_for(number, repo, multi_repo)
        removed = False
        with self._lock:
            found = self.inspect(path)
            if found.found is Found.FOREIGN:
                raise WorkspaceError(found.reason)
            if found.found is Found.EMPTY:
                path.rmdir()
            elif found.found is not Found.ABSENT:
                self._discard(path)
                removed = True
            self.repo.git.worktree("prune")
            branch = branch_name(number, repo, multi_repo)
            if delete_branch and branch in self.repo.heads:
                self.repo.git.branch("-D", branch)
                removed = True
        return removed

    def existing(self) -> list[Path]:
        """This repository's worktrees in the worktrees folder (complete or half made), pool slots aside."""
        if not self.worktrees.is_dir():
            return []
        return sorted(path for path in self.worktrees.iterdir() if self.inspect(path).found in (Found.READY, Found.HALF_MADE))
