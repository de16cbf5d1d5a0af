"""What is at a worktree path, read from files alone: one of this repository's worktrees, half made, or not ours."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

LEAVE_ALONE = "move it away or remove it yourself (nothing in it was touched)"


class WorkspaceError(RuntimeError):
    """The worktree or branch could not be prepared; the message says why."""


class Found(Enum):
    ABSENT = "absent"
    EMPTY = "empty"
    """An empty folder: nothing in it can be lost."""
    READY = "ready"
    """A complete linked worktree of this repository at exactly this path."""
    HALF_MADE = "half_made"
    """Ours, but its checkout never finished (`git worktree add` was killed, or its index is gone)."""
    FOREIGN = "foreign"
    """Anything else: a plain folder, another repository, a copy, a symbolic link. Never written to."""


@dataclass(frozen=True)
class Inspection:
    found: Found
    path: Path
    reason: str = ""
    """For FOREIGN and HALF_MADE: what is wrong, naming the path and what to do."""
    admin: Path | None = None
    """The worktree's folder in `.git/worktrees/`, for READY and HALF_MADE."""
    head: str = ""
    """HEAD as git stores it: `ref: refs/heads/...` or a commit."""
    lock_files: tuple[str, ...] = ()
    """`*.lock` files in the admin folder (index.lock, HEAD.lock): a git at work, or one that died."""
    locked: str | None = None
    """The reason in git's `locked` file, when the worktree is locked."""


def inspect_worktree(path: Path, *, top: Path, admin_root: Path, repo_root: Path) -> Inspection:
    """What is at `path`, from a few file reads and no git process (a reuse on every retry asks this).

    `top` is the resolved folder below which no symbolic link is allowed, `admin_root` the
    resolved `.git/worktrees` of this repository. A linked worktree's `.git` file names its
    admin folder, whose `gitdir` file names the worktree back (gitrepository-layout). Plain
    string paths and `os` calls throughout: this runs on every dispatch and retry.
    """
    link = _first_link(path, top)
    if link is not None:
        target = os.path.realpath(link)
        return Inspection(Found.FOREIGN, path, f"{link} is a symbolic link to {target}: worktrees must stay inside {top}; remove the link (where it points was not touched)")
    here = str(path)
    kind = _kind(here)
    if kind is None:
        return Inspection(Found.ABSENT, path)
    if kind != "dir":
        return Inspection(Found.FOREIGN, path, f"{path} is a file, not a git worktree: {LEAVE_ALONE}")
    dot_git = os.path.join(here, ".git")
    git_kind = _kind(dot_git)
    if git_kind is None:
        with os.scandir(here) as entries:
            if next(entries, None) is None:
                return Inspection(Found.EMPTY, path)
        return Inspection(Found.FOREIGN, path, f"{path} is a folder that is not a git worktree: {LEAVE_ALONE}")
    if git_kind == "link":
        return Inspection(Found.FOREIGN, path, f"{path} is not a worktree of {repo_root} (its .git is a symbolic link): {LEAVE_ALONE}")
    if git_kind == "dir":
        return Inspection(Found.FOREIGN, path, f"{path} is a git repository of its own, not a worktree of {repo_root}: {LEAVE_ALONE}")
    pointer = _read(dot_git)
    if not pointer.startswith("gitdir: "):
        return Inspection(Found.FOREIGN, path, f"{path} is a folder that is not a git worktree (its .git names no repository): {LEAVE_ALONE}")
    admin = os.path.normpath(os.path.join(here, pointer[len("gitdir: "):]))
    if not _same(os.path.dirname(admin), str(admin_root)):
        return Inspection(Found.FOREIGN, path, f"{path} is a worktree of another repository ({admin}): {LEAVE_ALONE}")
    try:
        entries = set(os.listdir(admin))
    except OSError:
        return Inspection(Found.FOREIGN, path, f"{path} is a worktree git no longer knows ({admin} is gone): run `git worktree repair {path}`, or {LEAVE_ALONE}")
    back = _read(os.path.join(admin, "gitdir"))
    if not back:
        return Inspection(Found.FOREIGN, path, f"{path} is a worktree git no longer knows ({admin} names no worktree): run `git worktree repair {path}`, or {LEAVE_ALONE}")
    registered = os.path.dirname(os.path.normpath(os.path.join(admin, back)))
    if not _same(registered, here):
        return Inspection(Found.FOREIGN, path, f"{path} is registered by git at {registered} (a copy or a move by hand?): run `git worktree repair`, or {LEAVE_ALONE}")
    locked = _read(os.path.join(admin, "locked")) if "locked" in entries else None
    lock_files = tuple(sorted(name for name in entries if name.endswith(".lock")))
    head = _read(os.path.join(admin, "HEAD"))
    admin_path = Path(admin)
    if "index" not in entries or (locked is not None and "initializing" in locked):
        reason = f"{path} was left half-made by an interrupted checkout (git's lock: {locked or 'none'}, index {'present' if 'index' in entries else 'missing'})"
        return Inspection(Found.HALF_MADE, path, reason, admin_path, head, lock_files, locked)
    return Inspection(Found.READY, path, "", admin_path, head, lock_files, locked)


def _first_link(path: Path, top: Path) -> Path | None:
    """The outermost symbolic link on the way from `top` (resolved) down to `path`, if any; `path` itself when it lies outside `top`."""
    here, current = str(path), str(top)
    if not here.startswith(current + os.sep):
        return path
    for part in here[len(current) + 1:].split(os.sep):
        current = os.path.join(current, part)
        if part in ("", ".", "..") or os.path.islink(current):
            return Path(current)
    return None


def _kind(path: str) -> str | None:
    """"dir", "file", "link" or "other" for what is at `path` itself (links not followed); None when nothing is."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def _same(path: str, expected: str) -> bool:
    """Whether `path` names `expected` (resolved); git writes its pointers resolved, so mostly without a lookup."""
    return path == expected or os.path.realpath(path) == expected


def _read(file: str) -> str:
    try:
        with open(file, "rb") as handle:
            return handle.read().decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
