"""Whether a stacked dependant's blockers' work merges, found before any worktree or session exists:
the same verdict (issues, files) `prepare` would meet, with the commits it was judged on, and
nothing written to any branch or worktree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapters.test_workspace_stacking import _blocker
from tests.adapters.workspace_repo import commit_file, git, make_repo
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.adapters.workspace_stacking import check_blockers


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    made = make_repo(tmp_path)
    _blocker(made, 1, "main", {"schema.txt": "schema\n"})
    _blocker(made, 2, "feature/issue-1", {"src/app.py": "print('from 2')\n", "part-2.txt": "2\n"})
    _blocker(made, 3, "feature/issue-1", {"part-3.txt": "3\n"})
    _blocker(made, 4, "feature/issue-1", {"src/app.py": "print('from 4')\n"})
    return made


MERGES = [("o/r#3", "feature/issue-3"), ("o/r#4", "feature/issue-4")]


def test_a_conflict_is_found_without_a_worktree_and_named_as_prepare_names_it(repo: Path) -> None:
    branches_before = git(repo, "branch", "--list")
    manager = WorkspaceManager(repo)
    check = check_blockers(manager.repo, "feature/issue-5", "main", ("o/r#2", "feature/issue-2"), MERGES, "o/r#5")
    assert check.conflict is not None
    assert (check.conflict.issues, check.conflict.files) == (("o/r#2", "o/r#4"), ("src/app.py",))
    assert str(check.conflict).startswith("#2 and #4 change the same lines (file src/app.py), so #5 cannot start")
    heads = dict(check.heads)
    assert heads == {name: git(repo, "rev-parse", name) for name in ("feature/issue-2", "feature/issue-3", "feature/issue-4")}
    assert git(repo, "branch", "--list") == branches_before and not manager.path_for(5).exists()
    assert git(repo, "status", "--porcelain") == ""


def test_resolved_on_a_blockers_branch_it_merges_and_prepare_agrees(repo: Path) -> None:
    manager = WorkspaceManager(repo, worktrees_dir=".fix")
    path = manager.prepare(4).path
    git(path, "checkout", "feature/issue-1", "--", "src/app.py")
    commit_file(path, "part-4.txt", "4\n", "issue 4: leave app.py to #2")
    manager.discard(path)
    check = check_blockers(manager.repo, "feature/issue-5", "main", ("o/r#2", "feature/issue-2"), MERGES, "o/r#5")
    assert check.conflict is None
    assert dict(check.heads)["feature/issue-4"] == git(repo, "rev-parse", "feature/issue-4")
    workspace = WorkspaceManager(repo).prepare(5, "o/r", base="feature/issue-2", stacked_on="o/r#2", merge=MERGES)
    assert (workspace.path / "part-4.txt").is_file() and (workspace.path / "src" / "app.py").read_text() == "print('from 2')\n"


def test_the_dependants_own_branch_is_what_the_blockers_merge_into(repo: Path) -> None:
    """A retry's branch already holds #2 and #3 and its own work: only #4 is merged into it, and its head counts."""
    workspace = WorkspaceManager(repo).prepare(5, "o/r", base="feature/issue-2", stacked_on="o/r#2", merge=MERGES[:1])
    commit_file(workspace.path, "page.txt", "page\n", "issue 5: page")
    check = check_blockers(WorkspaceManager(repo).repo, "feature/issue-5", "main", ("o/r#2", "feature/issue-2"), MERGES, "o/r#5")
    assert check.conflict is not None and check.conflict.files == ("src/app.py",)
    assert dict(check.heads)["feature/issue-5"] == git(repo, "rev-parse", "feature/issue-5")
