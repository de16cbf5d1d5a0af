"""Git-ignored files in a worktree that are someone's, not build output: `clean` refuses to delete them.

Ignored is not the same as disposable: a `.env`, `notes.local` or a `secrets/` folder is ignored
so that it is never committed, and exists nowhere else. Build output and caches can be made
again, so they go with the worktree; everything else ignored counts as work.
"""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING

import git

if TYPE_CHECKING:
    from pathlib import Path

BUILD_OUTPUT_FOLDERS = frozenset({
    "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox", ".venv", "venv",
    ".eggs", "node_modules", ".next", ".nuxt", ".parcel-cache", ".turbo", ".svelte-kit", ".gradle", ".cache",
    "build", "dist", "target", "_build", "coverage", "htmlcov", ".coverage_html",
})
"""Folders that tools make again from the sources (dependencies, caches, compiler output)."""
BUILD_OUTPUT_FILES = ("*.pyc", "*.pyo", "*.o", "*.obj", "*.class", "*.tsbuildinfo", ".coverage", ".coverage.*", ".DS_Store", "*.egg-info")
"""Single files (and `*.egg-info` folders) of the same kind."""


def is_build_output(relative: str) -> bool:
    """Whether an ignored path (`src/__pycache__/`, `stray.pyc`) lies in or is reproducible build output."""
    parts = [part for part in relative.split("/") if part]
    return any(part in BUILD_OUTPUT_FOLDERS for part in parts) or any(
        fnmatch.fnmatch(part, pattern) for part in parts for pattern in BUILD_OUTPUT_FILES
    )


def ignored_work(path: Path) -> list[str]:
    """The ignored files under `path` that are not build output, sorted, relative to it.

    Git lists a wholly ignored folder once (`--directory`), so a `node_modules` is never walked;
    an ignored folder that is not build output is walked for the files it holds."""
    output = git.Git(str(path)).execute(
        ["git", "--no-optional-locks", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
    )
    files: list[str] = []
    for entry in filter(None, str(output).split("\0")):
        if is_build_output(entry):
            continue
        if not entry.endswith("/"):
            files.append(entry)
            continue
        for folder, names, file_names in os.walk(os.path.join(str(path), entry)):
            names[:] = [name for name in names if name not in BUILD_OUTPUT_FOLDERS]
            inside = os.path.relpath(folder, str(path)).replace(os.sep, "/")
            files += [f"{inside}/{name}" for name in file_names if not is_build_output(name)]
    return sorted(files)


def describe_ignored(files: list[str], named: int = 3) -> str:
    """`2 git-ignored files that are not build output (.env, notes.local)`, the first few named; empty for none."""
    if not files:
        return ""
    shown = ", ".join(files[:named]) + (f" and {len(files) - named} more" if len(files) > named else "")
    noun = "git-ignored file that is not" if len(files) == 1 else "git-ignored files that are not"
    return f"{len(files)} {noun} build output ({shown})"
