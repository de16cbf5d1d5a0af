"""Running the real `waterspider` command in a subprocess and reading its JSON events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
