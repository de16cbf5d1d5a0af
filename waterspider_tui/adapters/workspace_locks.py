"""Which live processes work in a folder, and whether a git lock file there belongs to none of them."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

ABANDONED_AFTER_S = 2.0
"""A lock file untouched this long, with no process seen in its worktree, was left by one that died.

The age covers what the process scan cannot see (another PID namespace, another host on a
shared disk): git holds a lock for the length of one command.
"""


def processes_in(paths: Iterable[Path]) -> dict[Path, list[int]]:
    """For each folder, the live processes whose working directory or arguments lie inside it."""
    folders = [str(path) for path in paths]
    found: dict[Path, list[int]] = {Path(folder): [] for folder in folders}
    for pid, cwd, args in _processes():
        for folder in folders:
            if any(_inside(place, folder) for place in (cwd, *args)):
                found[Path(folder)].append(pid)
    return found


def users_once_settled(path: Path, lock_files: Iterable[Path]) -> list[int]:
    """The live processes in `path`, asked only once its lock files are `ABANDONED_AFTER_S` old.

    A crash moments ago leaves young files: waiting out the rest of the age (at most
    `ABANDONED_AFTER_S`) beats failing a dispatch that a restart made right after the crash.
    """
    newest = max((_mtime(file) for file in lock_files), default=0.0)
    wait = newest + ABANDONED_AFTER_S - time.time()
    if wait > 0:
        time.sleep(min(wait, ABANDONED_AFTER_S))
    return processes_in([path])[path]


def clear_abandoned(path: Path, lock_files: Iterable[Path]) -> bool:
    """Remove the lock files when they are old and no live process works in `path`; True if they are gone."""
    files = [file for file in lock_files if file.exists()]
    if not files:
        return True
    if any(time.time() - _mtime(file) < ABANDONED_AFTER_S for file in files) or processes_in([path])[path]:
        return False
    for file in files:
        file.unlink(missing_ok=True)
    return True


def clear_once_settled(path: Path, lock_files: Iterable[Path]) -> bool:
    """Like `clear_abandoned`, but a young lock file is given the rest of its age first (see
    `users_once_settled`): a git killed just before a restart leaves one, and a failed commit would charge an attempt."""
    files = [file for file in lock_files if file.exists()]
    if not files:
        return True
    if users_once_settled(path, files):
        return False
    for file in files:
        file.unlink(missing_ok=True)
    return True


def describe(pids: list[int]) -> str:
    return f"process{'es' if len(pids) > 1 else ''} {', '.join(str(pid) for pid in pids)}"


def _inside(place: str, folder: str) -> bool:
    return place == folder or place.startswith(folder + os.sep)


def _mtime(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except OSError:
        return 0.0


def _processes() -> list[tuple[int, str, list[str]]]:
    """(pid, working directory, absolute arguments) of every process we may look at, ours excluded."""
    own = os.getpid()
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return _processes_from_ps(own)
    listed = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        listed.append((int(entry.name), cwd, [arg for arg in args if arg.startswith(os.sep)]))
    return listed


def _processes_from_ps(own: int) -> list[tuple[int, str, list[str]]]:
    """Without /proc (macOS): arguments only, split on spaces, from `ps`."""
    try:
        output = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "args="], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    listed = []
    for line in output.splitlines():
        pid, _, command = line.strip().partition(" ")
        if pid.isdigit() and int(pid) != own:
            listed.append((int(pid), "", [arg for arg in command.split() if arg.startswith(os.sep)]))
    return listed
