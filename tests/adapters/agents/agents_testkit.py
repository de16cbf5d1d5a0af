"""Helpers for the agent tests: fixture paths, a real git repo with an issue worktree, contexts, runs."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from waterspider_tui.adapters.agents.base import LaunchSpec, SessionContext, StreamParser
from waterspider_tui.adapters.executors.local import write_launch_files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "agents"
GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Worktree:
    repo: Path
    path: Path
    branch: str


def make_worktree(tmp_path: Path) -> Worktree:
    """A real repository with one commit on main and a worktree on `feature/issue-7`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# widgets\n\nA small project.\n")
    (repo / "app.py").write_text("def login(user, password):\n    return bool(password)\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial")
    path = repo / ".worktrees" / "issue-7"
    git(repo, "worktree", "add", "-q", "-b", "feature/issue-7", str(path))
    return Worktree(repo=repo, path=path, branch="feature/issue-7")


def make_context(worktree: Path | str, session_dir: Path | str, **overrides: object) -> SessionContext:
    values: dict[str, object] = {
        "issue_key": "acme/widgets#7",
        "number": 7,
        "repo": "acme/widgets",
        "title": "Fix the login crash",
        "body": "Logging in with an empty password crashes.\n\n```json\n{\"user\": \"x\"}\n```",
        "labels": ("bug", "P1-High"),
        "branch": "feature/issue-7",
        "worktree": str(worktree),
        "session_dir": str(session_dir),
    }
    values.update(overrides)
    return SessionContext(**values)  # type: ignore[arg-type]


def run_spec(spec: LaunchSpec, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """Run a launch spec the way executors do: its env only, its cwd, stdin from its file or /dev/null."""
    with spec_stdin(spec) as stdin:
        return subprocess.run(list(spec.argv), env=spec.env, cwd=spec.cwd, stdin=stdin, capture_output=True, timeout=timeout)


def spec_stdin(spec: LaunchSpec) -> IO[bytes]:
    """The spec's files written into its session folder as an executor writes them, then its
    stdin opened: its `stdin_file` there, else /dev/null (use it as a context manager)."""
    write_launch_files(Path(spec.env["WATERSPIDER_ISSUE_SESSION_DIR"]), spec)
    if not spec.stdin_file:
        return open(os.devnull, "rb")
    return open(os.path.join(spec.env["WATERSPIDER_ISSUE_SESSION_DIR"], spec.stdin_file), "rb")


def feed_all(parser: StreamParser, data: bytes | str) -> list:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    entries = []
    for line in text.splitlines():
        entries += parser.feed(line)
    return entries
