"""Only a linked worktree of this repository, inside `.worktrees`, on its branch, is ever used; anything else is refused and left as it is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.adapters.workspace_repo import commit_file, git, make_repo, operator_state
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def tree(folder: Path) -> dict[str, str]:
    """Every file under a folder with its text (git's own files included), to show nothing changed."""
    return {str(path.relative_to(folder)): path.read_text(errors="replace") for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("warm_pool", [0, 1])
def test_a_plain_folder_at_the_issue_path_is_refused_and_left_alone(repo: Path, warm_pool: int) -> None:
    manager = WorkspaceManager(repo, warm_pool=warm_pool)
    manager.refill()
    folder = repo / ".worktrees" / "issue-7"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("the operator's notes\n")
    before = operator_state(repo)
    with pytest.raises(WorkspaceError, match=r"issue-7 is a folder that is not a git worktree.*move it away"):
        manager.prepare(7)
    assert operator_state(repo) == before, "the operator's checkout stays on main, untouched"
    assert tree(folder) == {"notes.txt": "the operator's notes\n"}
    assert git(repo, "branch", "--list", "feature/issue-7") == ""
    assert len(list((repo / ".worktrees" / ".pool").glob("slot-*"))) == warm_pool, "no pool slot was spent"


def test_an_empty_folder_at_the_issue_path_holds_nothing_and_is_used(repo: Path) -> None:
    manager = WorkspaceManager(repo, warm_pool=1)
    manager.refill()
    (repo / ".worktrees" / "issue-7").mkdir(parents=True)
    workspace = manager.prepare(7)
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-7"
    assert (workspace.path / "README.md").exists()
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


@pytest.mark.parametrize("its_branch", ["main", "feature/issue-7"])
def test_an_unrelated_repository_at_the_issue_path_gets_no_commits(repo: Path, tmp_path: Path, its_branch: str) -> None:
    other = repo / ".worktrees" / "issue-7"
    other.mkdir(parents=True)
    git(other, "init", "-q", "-b", its_branch)
    commit_file(other, "theirs.txt", "theirs\n", "their work")
    before = tree(other)
    with pytest.raises(WorkspaceError, match=r"issue-7 is a git repository of its own, not a worktree of"):
        WorkspaceManager(repo).prepare(7)
    assert tree(other) == before, "not a byte of it changed"


def test_a_worktree_of_another_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "elsewhere")
    git(other, "worktree", "add", "-q", "-b", "feature/issue-7", str(repo / ".worktrees" / "issue-7"))
    before = tree(repo / ".worktrees" / "issue-7")
    with pytest.raises(WorkspaceError, match=r"issue-7 is a worktree of another repository"):
        WorkspaceManager(repo).prepare(7)
    assert tree(repo / ".worktrees" / "issue-7") == before


def test_a_copied_worktree_is_refused(repo: Path) -> None:
    """A copy's `.git` names the original's admin folder, which points back at the original, not the copy."""
    manager = WorkspaceManager(repo)
    original = manager.prepare(7).path
    shutil.copytree(original, repo / ".worktrees" / "issue-8", symlinks=True)
    with pytest.raises(WorkspaceError, match=r"issue-8 is registered by git at .*issue-7"):
        manager.prepare(8)
    assert git(original, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-7"
    assert git(repo, "branch", "--list", "feature/issue-8") == ""


def test_a_worktree_on_another_branch_is_refused(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    git(path, "checkout", "-q", "-b", "experiment")
    commit_file(path, "tried.txt", "x\n", "an experiment")
    with pytest.raises(WorkspaceError, match=r"issue-7 is on branch experiment, not feature/issue-7"):
        manager.prepare(7)
    assert git(path, "rev-parse", "--abbrev-ref", "HEAD") == "experiment"


def test_a_detached_worktree_with_commits_on_no_branch_is_refused(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    git(path, "checkout", "-q", "--detach")
    commit_file(path, "loose.txt", "x\n", "on no branch")
    loose = git(path, "rev-parse", "HEAD")
    with pytest.raises(WorkspaceError, match=r"issue-7 is detached at [0-9a-f]{12} with commits on no branch"):
        manager.prepare(7)
    assert git(path, "rev-parse", "HEAD") == loose


def test_a_link_at_the_issue_path_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / ".worktrees").mkdir()
    (repo / ".worktrees" / "issue-7").symlink_to(outside)
    manager = WorkspaceManager(repo, warm_pool=1)
    manager.refill()
    with pytest.raises(WorkspaceError, match=r"issue-7 is a symbolic link to .*outside"):
        manager.prepare(7)
    assert list(outside.iterdir()) == [], "nothing was checked out where it points"
    assert (repo / ".worktrees" / "issue-7").is_symlink()


def test_a_link_to_a_worktree_of_this_repository_outside_the_folder_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-worktree"
    git(repo, "worktree", "add", "-q", "-b", "feature/issue-7", str(outside))
    (repo / ".worktrees").mkdir()
    (repo / ".worktrees" / "issue-7").symlink_to(outside)
    with pytest.raises(WorkspaceError, match=r"issue-7 is a symbolic link"):
        WorkspaceManager(repo).prepare(7)


def test_a_linked_worktrees_folder_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / ".worktrees").symlink_to(outside)
    manager = WorkspaceManager(repo, warm_pool=1)
    assert manager.refill() == 0
    with pytest.raises(WorkspaceError, match=r"\.worktrees is a symbolic link to .*outside"):
        manager.prepare(7)
    assert list(outside.iterdir()) == []


def test_a_linked_pool_slot_is_not_used(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-slot"
    git(repo, "worktree", "add", "-q", "--detach", str(outside))
    pool = repo / ".worktrees" / ".pool"
    pool.mkdir(parents=True)
    (pool / "slot-linked").symlink_to(outside)
    manager = WorkspaceManager(repo, warm_pool=1)
    workspace = manager.prepare(7)
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-7"
    assert not workspace.path.is_symlink()
    assert (outside / ".git").is_file() and git(outside, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD", "left where and as it was"
    assert (pool / "slot-linked").is_symlink()


def test_a_plain_folder_in_the_pool_is_not_used_nor_removed(repo: Path) -> None:
    pool = repo / ".worktrees" / ".pool"
    (pool / "slot-mine").mkdir(parents=True)
    (pool / "slot-mine" / ".git").write_text("gitdir: /nowhere\n")
    manager = WorkspaceManager(repo, warm_pool=1)
    assert manager.refill() == 1
    workspace = manager.prepare(7)
    assert (workspace.path / "README.md").exists()
    assert (pool / "slot-mine" / ".git").read_text() == "gitdir: /nowhere\n"
    manager.drain_pool()
    assert (pool / "slot-mine" / ".git").exists()


def test_remove_refuses_a_folder_that_is_not_ours(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    folder = repo / ".worktrees" / "issue-7"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine\n")
    with pytest.raises(WorkspaceError, match=r"issue-7 is a folder that is not a git worktree"):
        manager.remove(7)
    assert (folder / "notes.txt").exists()
    manager.prepare(8)
    assert [path.name for path in manager.existing()] == ["issue-8"]
