"""`clean` and git-ignored files: build output and caches go with the worktree, anything else
ignored (a `.env`, notes) is someone's and is refused by name; a worktree on a branch that is
not its issue's was not made by waterspider and is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapters.workspace_repo import commit_file, git, make_repo
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.adapters.workspace_clean import clean_workspaces


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path)
    commit_file(root, ".gitignore", "*.local\n.env\nsecrets/\n__pycache__/\nnode_modules/\n*.pyc\n.pytest_cache/\nbuild/\n", "ignore")
    return root


@pytest.fixture
def manager(repo: Path) -> WorkspaceManager:
    return WorkspaceManager(repo)


def put(path: Path, text: str = "x\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_an_ignored_file_that_is_not_build_output_is_refused_by_name_unless_forced(manager: WorkspaceManager) -> None:
    path = manager.prepare(1).path
    put(path / "notes.local", "my notes\n")
    report = clean_workspaces(manager)
    assert report.removed == []
    assert report.refused == ["issue-1: 1 git-ignored file that is not build output (notes.local) — use --force to remove anyway"]
    assert (path / "notes.local").read_text() == "my notes\n"
    forced = clean_workspaces(manager, force=True)
    assert forced.removed == ["issue-1: worktree removed, with 1 git-ignored file that is not build output (notes.local)"]
    assert not path.exists()


def test_build_output_and_caches_are_not_work(manager: WorkspaceManager) -> None:
    path = manager.prepare(2).path
    put(path / "src" / "__pycache__" / "app.cpython-311.pyc")
    put(path / "web" / "node_modules" / "left-pad" / "index.js")
    put(path / ".pytest_cache" / "v" / "cache" / "lastfailed")
    put(path / "build" / "out.o")
    put(path / "stray.pyc")
    assert clean_workspaces(manager).removed == ["issue-2: worktree removed"]


def test_many_ignored_files_are_counted_and_the_first_named(manager: WorkspaceManager) -> None:
    path = manager.prepare(3).path
    put(path / ".env", "TOKEN=abc\n")
    put(path / "secrets" / "a.key")
    put(path / "secrets" / "b.key")
    for index in range(4):
        put(path / f"n{index}.local")
    put(path / "src" / "__pycache__" / "app.pyc")
    (line,) = clean_workspaces(manager).refused
    assert line.startswith("issue-3: 7 git-ignored files that are not build output (.env, n0.local, n1.local and 4 more)"), line
    assert (path / ".env").exists() and (path / "secrets" / "a.key").exists()


def test_a_worktree_on_a_branch_that_is_not_its_issues_is_left_alone_even_with_force(repo: Path, manager: WorkspaceManager) -> None:
    path = repo / ".worktrees" / "issue-4"
    git(repo, "worktree", "add", "-q", "-b", "other", str(path))
    for force in (False, True):
        report = clean_workspaces(manager, force=force, delete_branches=True)
        assert report.removed == []
        assert report.left_alone == [f"issue-4: on branch other, not feature/issue-4: not made by waterspider — left alone (git worktree remove {path} removes it)"]
    assert path.is_dir() and git(repo, "branch", "--list", "other") != ""
