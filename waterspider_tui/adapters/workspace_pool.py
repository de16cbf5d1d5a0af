"""The warm pool: worktrees checked out ahead of time in `.worktrees/.pool`, handed over by a move."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import git

from waterspider_tui.adapters.workspace_checks import Found, WorkspaceError
from waterspider_tui.adapters.workspace_locks import clear_abandoned, describe, processes_in

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from waterspider_tui.adapters.workspace_checks import Inspection


class WarmPool:
    """Detached worktrees of the base, kept complete; a slot that is broken or not ours is never used.

    The caller serialises: `refill` and `drain` under its refill lock, `take` under its dispatch lock.
    """

    def __init__(self, repo: git.Repo, folder: Path, inspect: Callable[[Path], Inspection]) -> None:
        self.repo = repo
        self.folder = folder
        self._inspect = inspect
        self._in_making: set[str] = set()
        """Slots a refill of ours is checking out right now: half made, and not broken."""

    def entries(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(slot for slot in self.folder.iterdir() if slot.name not in self._in_making)

    def usable(self) -> list[Inspection]:
        """The complete, unlocked slots; anything else in the folder is left out."""
        slots = []
        for slot in self.entries():
            found = self._inspect(slot)
            if found.found is Found.READY and not found.lock_files and found.locked is None:
                slots.append(found)
        return slots

    def take(self, path: Path, branch: str, base_branch: str, base_commit: str | None) -> bool:
        """Move a slot to `path` and put it on `branch` (only changed files move); False if none could be."""
        for entry in self.entries():
            slot = self._inspect(entry)  # one at a time: the first usable slot ends the search
            if slot.found is not Found.READY or slot.lock_files or slot.locked is not None:
                continue
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.repo.git.worktree("move", str(slot.path), str(path))
            except git.GitCommandError:
                continue
            moved = self._inspect(path)
            if moved.found is not Found.READY:
                raise WorkspaceError(f"a pool worktree moved to {path} is not a complete worktree there: {moved.reason}")
            worktree = git.Git(str(path))
            if branch in self.repo.heads:
                worktree.checkout("-q", branch)
            elif base_commit is not None and moved.head == base_commit:
                # The slot already holds the base's files and index: the new branch only needs
                # HEAD pointed at it, which spares a checkout that reads the whole tree (~80 ms
                # for 10,000 files, under the lock every dispatch waits on).
                self.repo.git.branch(branch, base_commit)
                worktree.symbolic_ref("HEAD", f"refs/heads/{branch}")
            else:
                worktree.checkout("-q", "-b", branch, base_branch)
            return True
        return False

    def refill(self, size: int, base_branch: str) -> int:
        """Check out slots until `size` are usable, broken ones removed first; returns how many were made."""
        self.discard_broken()
        made = 0
        while len(self.usable()) < size:
            name = f"slot-{uuid.uuid4().hex[:8]}"
            slot = self.folder / name
            if self._inspect(slot).found is not Found.ABSENT:
                return made  # the folder is a link, or not ours
            self.folder.mkdir(parents=True, exist_ok=True)
            self._in_making.add(name)
            try:
                self.repo.git.worktree("add", "--detach", str(slot), base_branch)
            except git.GitCommandError:
                return made
            finally:
                self._in_making.discard(name)
            if self._inspect(slot).found is not Found.READY:
                return made
            made += 1
        return made

    def discard_broken(self) -> None:
        """Remove slots whose checkout died midway, and clear locks dead processes left in the others."""
        for slot in self.entries():
            found = self._inspect(slot)
            if found.admin is None or found.found not in (Found.READY, Found.HALF_MADE):
                continue
            lock_files = [found.admin / name for name in found.lock_files]
            if found.found is Found.READY:
                clear_abandoned(slot, lock_files)
            elif clear_abandoned(slot, [*lock_files, found.admin / "locked"]) and not processes_in([slot])[slot]:
                try:
                    self.repo.git.worktree("remove", "--force", "--force", str(slot))
                except git.GitCommandError:
                    continue  # not usable either way; the next refill tries again

    def drain(self) -> tuple[int, list[str]]:
        """Remove every slot of ours no live process works in: how many went, and why each other entry stayed."""
        entries = self.entries()
        users = processes_in(entries)
        removed, kept = 0, []
        for slot in entries:
            found = self._inspect(slot)
            if found.found not in (Found.READY, Found.HALF_MADE):
                kept.append(found.reason or f"{slot} is not a worktree: left alone")
            elif users[slot]:
                kept.append(f"{slot} is in use by {describe(users[slot])}: left alone")
            else:
                try:
                    self.repo.git.worktree("remove", "--force", "--force", str(slot))
                except git.GitCommandError as error:
                    kept.append(f"{slot} could not be removed: {(error.stderr or str(error)).strip()}")
                    continue
                removed += 1
        return removed, kept
