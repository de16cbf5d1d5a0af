"""Running the real `waterspider` command in a subprocess (on a pipe or a pseudo-terminal) and reading its JSON events."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

WATERSPIDER = [sys.executable, "-m", "waterspider_tui"]


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATERSPIDER_")}
    env.setdefault("GIT_AUTHOR_NAME", "waterspider tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "tests@waterspider.invalid")
    return env


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WATERSPIDER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=clean_env())


def json_events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def empty_project(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with one empty commit on main and an empty issue folder beside it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init")
    issues = tmp_path / "issues"
    issues.mkdir()
    return repo, issues


def run_on_terminal(*args: str, rows: int = 30, columns: int = 100) -> tuple[subprocess.Popen[bytes], int]:
    """The command on a pseudo-terminal of its own (its own session, as a shell would start it); the terminal's master end."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        [*WATERSPIDER, *args], stdin=slave, stdout=slave, stderr=slave,
        env={**clean_env(), "TERM": "xterm-256color"}, start_new_session=True,
    )
    os.close(slave)
    return process, master
