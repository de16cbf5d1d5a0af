"""`waterspider clean` from the command line: refuses what would lose work, protects running sessions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.git_checkout import make_checkout


def clean(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "waterspider_tui", "clean", "--repo-path", str(repo), *args], capture_output=True, text=True, timeout=60)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_clean_refuses_dirty_work_and_forces_on_request(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "repo")
    git(repo, "worktree", "add", "-q", "-b", "feature/issue-3", str(repo / ".worktrees" / "issue-3"))
    git(repo, "worktree", "add", "-q", "-b", "feature/issue-4", str(repo / ".worktrees" / "issue-4"))
    (repo / ".worktrees" / "issue-3" / "notes.txt").write_text("unsaved thoughts\n")
    (repo / ".worktrees" / "plain").mkdir()
    done = clean(repo, "--delete-branches")
    assert done.returncode == 1, done.stderr
    assert "removed" in done.stdout and "issue-4" in done.stdout
    assert "refused  issue-3" in done.stderr and "untracked" in done.stderr and "--force" in done.stderr
    assert (repo / ".worktrees" / "issue-3" / "notes.txt").exists(), "work is never deleted without --force"
    assert "Traceback" not in done.stderr
    forced = clean(repo, "--force", "--delete-branches")
    assert forced.returncode == 0, forced.stderr
    assert not (repo / ".worktrees" / "issue-3").exists()
    assert git(repo, "branch", "--show-current").strip() == "main", "the operator's checkout stays on its branch"


def test_clean_names_ignored_files_that_are_not_build_output_and_says_so_in_help(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "repo")
    (repo / ".gitignore").write_text("*.local\n__pycache__/\n")
    git(repo, "add", ".gitignore")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "ignore")
    git(repo, "worktree", "add", "-q", "-b", "feature/issue-1", str(repo / ".worktrees" / "issue-1"))
    (repo / ".worktrees" / "issue-1" / "notes.local").write_text("keep me\n")
    (repo / ".worktrees" / "issue-1" / "__pycache__").mkdir()
    (repo / ".worktrees" / "issue-1" / "__pycache__" / "m.pyc").write_text("x")
    done = clean(repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "refused  issue-1: 1 git-ignored file that is not build output (notes.local) — use --force" in done.stderr
    assert (repo / ".worktrees" / "issue-1" / "notes.local").exists()
    shown = " ".join(subprocess.run([sys.executable, "-m", "waterspider_tui", "clean", "--help"], capture_output=True, text=True, timeout=60).stdout.split())
    assert "files git ignores other than build output" in shown and "branch other than its issue's" in shown
