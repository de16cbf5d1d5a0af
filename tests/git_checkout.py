"""A small real git repository with one commit on `main`, for tests that need a checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_checkout(path: Path, readme: str = "hello\n") -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    (path / "README.md").write_text(readme)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=path, check=True)
    return path
