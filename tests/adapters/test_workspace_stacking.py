"""A dependant stacked on several unmerged blockers, in a real git repository: its worktree starts from
the first blocker's branch with the others merged in (a merge commit each, in the order given), and
a conflict between blockers is aborted, named (issues, files), and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapters.workspace_repo import commit_file, git, make_repo
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager
from waterspider_tui.adapters.workspace_stacking import BlockersConflict


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def _blocker(repo: Path, number: int, start: str, files: dict[str, str]) -> None:
    """Branch `feature/issue-N` from `start`, with one commit writing `files`."""
    git(repo, "branch", f"feature/issue-{number}", start)
    manager = WorkspaceManager(repo, worktrees_dir=".blockers")
    path = manager.prepare(number).path
    for name, text in files.items():
        commit_file(path, name, text, f"issue {number}: {name}")
    manager.discard(path)


def _diamond(repo: Path) -> None:
    """#1 on main; #2, #3 and #4 each on #1; #5 depends on #2, #3 and #4."""
    _blocker(repo, 1, "main", {"schema.txt": "schema\n"})
    for number in (2, 3, 4):
        _blocker(repo, number, "feature/issue-1", {f"part-{number}.txt": f"part {number}\n"})


def test_a_dependant_starts_from_all_its_blockers_work_a_merge_commit_each(repo: Path) -> None:
    _diamond(repo)
    merges = [("o/r#3", "feature/issue-3"), ("o/r#4", "feature/issue-4")]
    workspace = WorkspaceManager(repo).prepare(5, "o/r", base="feature/issue-2", stacked_on="o/r#2", merge=merges)
    assert (workspace.branch, workspace.base, workspace.reused) == ("feature/issue-5", "feature/issue-2", False)
    for name in ("schema.txt", "part-2.txt", "part-3.txt", "part-4.txt"):
        assert (workspace.path / name).is_file(), name
    log = git(workspace.path, "log", "--first-parent", "--format=%s", "feature/issue-2..feature/issue-5").splitlines()
    assert log == [
        "Merge feature/issue-4 (#4) into feature/issue-5: #5 depends on it",
        "Merge feature/issue-3 (#3) into feature/issue-5: #5 depends on it",
    ]
    for blocker in (2, 3, 4):
        git(repo, "merge-base", "--is-ancestor", f"feature/issue-{blocker}", "feature/issue-5")
    assert git(workspace.path, "status", "--porcelain") == ""

    # Prepared again (a retry after the agent committed): nothing is merged twice, its work stays.
    commit_file(workspace.path, "page.txt", "page\n", "issue 5: page")
    again = WorkspaceManager(repo).prepare(5, "o/r", base="feature/issue-2", stacked_on="o/r#2", merge=merges)
    assert again.reused is True
    assert git(repo, "rev-list", "--count", "feature/issue-2..feature/issue-5") == "5", "2 blocker commits, 2 merges, its own"


def test_a_blocker_already_in_another_blockers_branch_is_not_merged_again(repo: Path) -> None:
    _blocker(repo, 1, "main", {"schema.txt": "schema\n"})
    _blocker(repo, 2, "feature/issue-1", {"api.txt": "api\n"})
    workspace = WorkspaceManager(repo).prepare(3, "o/r", base="feature/issue-2", stacked_on="o/r#2", merge=[("o/r#1", "feature/issue-1")])
    assert git(repo, "rev-parse", "feature/issue-3") == git(repo, "rev-parse", "feature/issue-2")
    assert (workspace.path / "schema.txt").is_file()


def test_a_conflict_between_blockers_is_named_and_leaves_nothing_behind(repo: Path) -> None:
    _blocker(repo, 1, "main", {"schema.txt": "schema\n"})
    _blocker(repo, 2, "feature/issue-1", {"src/app.py": "print('from 2')\n", "part-2.txt": "2\n"})
    _blocker(repo, 3, "feature/issue-1", {"part-3.txt": "3\n"})
    _blocker(repo, 4, "feature/issue-1", {"src/app.py": "print('from 4')\n"})
    manager = WorkspaceManager(repo)
    merges = [("o/r#3", "feature/issue-3"), ("o/r#4", "feature/issue-4")]
    with pytest.raises(BlockersConflict) as raised:
        manager.prepare(5, "o/r", base="feature/issue-2", stacked_on="o/r#2", merge=merges)
    conflict = raised.value
    assert isinstance(conflict, WorkspaceError)
    assert conflict.issues == ("o/r#2", "o/r#4"), "#3 touched none of the conflicting files"
    assert conflict.files == ("src/app.py",)
    assert str(conflict) == (
        "#2 and #4 change the same lines (file src/app.py), so #5 cannot start from all of their work:"
        " it waits until one of them is merged, or the conflict is resolved on one of their branches"
    )
    assert not manager.path_for(5).exists()
    assert "feature/issue-5" not in git(repo, "branch", "--list", "feature/issue-5")
    assert git(repo, "status", "--porcelain") == ""

    # Once #2 is merged into main, #5 stacks on #3 and #4 alone and starts.
    git(repo, "merge", "-q", "--no-ff", "-m", "merge #2", "feature/issue-2")
    workspace = manager.prepare(5, "o/r", base="feature/issue-3", stacked_on="o/r#3", merge=[("o/r#4", "feature/issue-4")])
    assert (workspace.path / "src" / "app.py").read_text() == "print('from 4')\n"
