"""Keep a folder of ours out of the operator's `git status` through `.git/info/exclude` (no tracked file edited)."""

from __future__ import annotations

from pathlib import Path


def exclude_entry(root: Path, folder: Path) -> str | None:
    """The anchored pattern for `folder` (`/.worktrees/`), or None when it lies outside the checkout."""
    try:
        return f"/{Path(folder).resolve().relative_to(Path(root).resolve()).as_posix()}/"
    except ValueError:
        return None


def add_exclude(exclude_file: Path, entry: str) -> None:
    """Append `entry` to the exclude file once; a file we cannot write leaves the folder merely visible."""
    try:
        text = exclude_file.read_text() if exclude_file.exists() else ""
        if entry not in text.splitlines():
            exclude_file.parent.mkdir(parents=True, exist_ok=True)
            exclude_file.write_text(text + ("" if text.endswith("\n") or not text else "\n") + entry + "\n")
    except (OSError, ValueError):
        pass
