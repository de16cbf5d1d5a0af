"""The milestone worktree stays out of the operator's `git status`, also when no session ran on this machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.adapters.test_milestone_integration import commit, git, issue_branch
from waterspider_tui.adapters.integration import BranchIntegrator, MemberBranch


def bare_project(tmp_path: Path) -> Path:
    """A checkout with no .gitignore and an exclude file that knows only the state folder, as an SSH-only run leaves it."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, {"README.md": "# app\n"}, "start")
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("/.waterspider/\n")
    return root


async def test_integrating_a_milestone_keeps_its_worktree_out_of_git_status(tmp_path: Path) -> None:
    root = bare_project(tmp_path)
    issue_branch(root, 1, {"one.py": "ONE = 1\n"})
    members = [MemberBranch("local#1", "#1", "One", "feature/issue-1")]
    result = await BranchIntegrator(root, "main").integrate("v2.0", members)
    assert result.error == "" and (root / ".worktrees" / "integration-v2.0").is_dir()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert status == ""
    assert (root / ".git" / "info" / "exclude").read_text() == "/.waterspider/\n/.worktrees/\n"
    await BranchIntegrator(root, "main").integrate("v2.0", members)
    assert (root / ".git" / "info" / "exclude").read_text().count("/.worktrees/") == 1
