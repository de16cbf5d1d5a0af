"""Real git repositories for the workspace tests: a two-commit project, commits, and a checkout killed midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

IDENTITY = ["-c", "user.name=Test Operator", "-c", "user.email=operator@example.com", "-c", "commit.gpgsign=false"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit_file(cwd: Path, name: str, text: str, message: str) -> None:
    (cwd / name).parent.mkdir(parents=True, exist_ok=True)
    (cwd / name).write_text(text)
    git(cwd, "add", name)
    git(cwd, "commit", "-q", "-m", message)


def make_repo(tmp_path: Path) -> Path:
    """A project on `main` with two commits (README.md, src/app.py)."""
    root = tmp_path / "project"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    commit_file(root, "README.md", "# project\n", "first")
    commit_file(root, "src/app.py", "print('hi')\n", "second")
    return root.resolve()


def operator_state(repo: Path) -> tuple[str, str, str]:
    """The operator's branch, commit and status, to check that nothing of theirs moved."""
    return git(repo, "rev-parse", "--abbrev-ref", "HEAD"), git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")


def add_slow_file(repo: Path, files_each_side: int = 40) -> None:
    """Commit files around `m.txt`, whose checkout a smudge filter can hold up (attribute `filter=slow`).

    Without the filter configured the attribute does nothing, so only a checkout given the filter
    (see `kill_midway`) stops there: the files before it are written, the ones after are not.
    """
    for index in range(files_each_side):
        (repo / f"a{index}.txt").write_text(f"a{index}\n")
        (repo / f"z{index}.txt").write_text(f"z{index}\n")
    (repo / "m.txt").write_text("middle\n")
    (repo / ".gitattributes").write_text("m.txt filter=slow\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "files around a slow one")


def kill_midway(repo: Path, code: str) -> None:
    """Run `code` (with `manager` = a WorkspaceManager of `repo`) in a child process and kill its
    whole process group with SIGKILL while git is checking out `m.txt`, as a crash or an OOM kill would."""
    marker = repo.parent / "checkout-reached-m.txt"
    marker.unlink(missing_ok=True)
    env = dict(os.environ, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="filter.slow.smudge", GIT_CONFIG_VALUE_0=f"touch '{marker}'; sleep 60; cat")
    script = f"from waterspider_tui.adapters.workspace import WorkspaceManager\nmanager = WorkspaceManager({str(repo)!r}, warm_pool=1)\n{code}\n"
    child = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True, cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert child.poll() is None, "the child finished before reaching the slow file"
        assert time.monotonic() < deadline, "the checkout never reached the slow file"
        time.sleep(0.01)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    while _group_alive(child.pid):
        assert time.monotonic() < deadline, "the killed processes never went"
        time.sleep(0.01)


def _group_alive(group: int) -> bool:
    """Whether a process of the group still runs (SIGKILL takes effect asynchronously; zombies don't count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


def age(*paths: Path, seconds: float = 60.0) -> None:
    """Make files look as old as a crash some time ago left them."""
    then = time.time() - seconds
    for path in paths:
        if path.exists():
            os.utime(path, (then, then))
