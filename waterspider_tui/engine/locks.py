"""One orchestrator per store and per repository: an flock on each, held for the whole run."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Sequence


class EngineLocked(RuntimeError):
    """Another orchestrator already runs on this store or this repository."""


class RunLocks:
    """Takes every lock or none; the locks vanish with the process, so kill -9 leaves none behind.

    While the run ends, the files say what it still waits for (`say`), so that a start refused
    meanwhile can tell the operator; a file taken again is emptied first, as words a killed run
    left there are stale.
    """

    def __init__(self, paths: Sequence[tuple[Path, str]]) -> None:
        self.paths = list(paths)
        """(lock file, what it guards, for the message)."""
        self._held: list[int] = []
        self._until_exit = False

    def keep_until_exit(self) -> None:
        """Hold the locks until the process ends, whatever `release` is called by.

        Why: what follows the engine's end (the control center closing, threads joined at exit)
        can still take a while, or hang; meanwhile the store is open, and `status` or a second
        `run` must see an orchestrator, not a free store.
        """
        self._until_exit = True

    def acquire(self) -> None:
        if self._held:
            return  # still held from an earlier run of this process (`keep_until_exit`)
        for path, what in self.paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                ending = _read_words(handle)
                os.close(handle)
                self.release()
                raise EngineLocked(f"another waterspider is running on {what}" + (f"; it is ending {ending}" if ending else "")) from error
            os.ftruncate(handle, 0)
            self._held.append(handle)

    def say(self, words: str) -> None:
        """Leave in the lock files what the ending run waits for (one line, replacing the last)."""
        line = f"(pid {os.getpid()}): {words}".replace("\n", " ").encode("utf-8", "replace")
        for handle in self._held:
            try:
                os.ftruncate(handle, 0)
                os.pwrite(handle, line, 0)
            except OSError:  # only the refusal message is poorer for it
                pass

    @property
    def held(self) -> bool:
        return bool(self._held)

    def release(self) -> None:
        if self._until_exit and self._held:
            self.say("the engine has stopped; the process is exiting")
            return  # the kernel lets go of the locks when the process ends
        for handle in self._held:
            try:
                os.ftruncate(handle, 0)
            except OSError:
                pass
            os.close(handle)
        self._held.clear()


def _read_words(handle: int) -> str:
    """What the run holding the lock said it waits for; empty while it simply runs."""
    try:
        return os.pread(handle, 1000, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def run_locks(store_path: Path, git_common_dir: Path | None = None, repo_root: Path | None = None) -> RunLocks:
    """The store's lock, and the repository's (in its git folder, shared by every worktree):
    two orchestrators with different stores on one repository would otherwise both run issues."""
    paths = [(store_path.with_suffix(".lock"), str(store_path))]
    if git_common_dir is not None:
        paths.append((git_common_dir / "waterspider.lock", f"the repository {repo_root or git_common_dir}"))
    return RunLocks(paths)
