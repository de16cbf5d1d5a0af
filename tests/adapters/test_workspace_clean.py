"""`clean_workspaces`: removes what holds nothing, refuses what would lose work, never touches a running session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.adapters.workspace_repo import age, commit_file, git, make_repo, operator_state
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.adapters.workspace_clean import CleanReport, clean_workspaces


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def manager(repo: Path) -> WorkspaceManager:
    return WorkspaceManager(repo)


def dirty(path: Path) -> None:
    """Two uncommitted changes (one staged, one not) and one untracked file."""
    (path / "README.md").write_text("# edited\n")
    (path / "src" / "app.py").write_text("print('edited')\n")
    git(path, "add", "README.md")
    (path / "new.txt").write_text("new\n")


def test_a_clean_worktree_is_removed_and_its_branch_kept(repo: Path, manager: WorkspaceManager) -> None:
    path = manager.prepare(7).path
    report = clean_workspaces(manager)
    assert report == CleanReport(removed=["issue-7: worktree removed"])
    assert not path.exists()
    assert git(repo, "branch", "--list", "feature/issue-7") != ""


def test_uncommitted_and_untracked_work_is_refused_unless_forced(repo: Path, manager: WorkspaceManager) -> None:
    path = manager.prepare(7).path
    dirty(path)
    report = clean_workspaces(manager)
    assert report.refused == ["issue-7: 2 uncommitted changes, 1 untracked file — use --force to remove anyway"]
    assert report.removed == []
    assert (path / "new.txt").read_text() == "new\n" and (path / "README.md").read_text() == "# edited\n"
    forced = clean_workspaces(manager, force=True)
    assert forced.removed == ["issue-7: worktree removed, with 2 uncommitted changes, 1 untracked file"]
    assert not path.exists()


def test_commits_on_no_branch_are_refused(manager: WorkspaceManager) -> None:
    path = manager.prepare(7).path
    git(path, "checkout", "-q", "--detach")
    commit_file(path, "loose.txt", "x\n", "on no branch")
    assert clean_workspaces(manager).refused == ["issue-7: 1 commit on no branch — use --force to remove anyway"]
    assert (path / "loose.txt").exists()


def test_ignored_files_are_not_work(repo: Path, manager: WorkspaceManager) -> None:
    commit_file(repo, ".gitignore", "build/\n", "ignore builds")
    path = manager.prepare(7).path
    (path / "build").mkdir()
    (path / "build" / "out.o").write_text("binary\n")
    assert clean_workspaces(manager).removed == ["issue-7: worktree removed"]


@pytest.mark.parametrize("how", ["issue", "worktree"])
def test_a_running_sessions_worktree_is_never_touched_even_with_force(repo: Path, manager: WorkspaceManager, how: str) -> None:
    path = manager.prepare(7).path
    dirty(path)
    running = {"running_issues": {7}} if how == "issue" else {"running_worktrees": [str(path)]}
    report = clean_workspaces(manager, force=True, delete_branches=True, **running)  # type: ignore[arg-type]
    assert "issue-7: a session is running in it — left alone, even with --force" in report.refused
    assert (path / "new.txt").exists() and git(path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-7"
    assert git(repo, "branch", "--list", "feature/issue-7") != ""


def test_a_worktree_a_live_process_works_in_is_never_touched(manager: WorkspaceManager) -> None:
    path = manager.prepare(7).path
    with subprocess.Popen(["sleep", "30"], cwd=path) as sleeper:
        try:
            report = clean_workspaces(manager, force=True)
        finally:
            sleeper.kill()
    assert report.refused == [f"issue-7: in use by process {sleeper.pid} — left alone, even with --force"]
    assert (path / "README.md").exists()


def test_folders_that_are_not_worktrees_are_left_alone_with_a_message(repo: Path, manager: WorkspaceManager, tmp_path: Path) -> None:
    worktrees = repo / ".worktrees"
    (worktrees / "issue-3").mkdir(parents=True)
    (worktrees / "issue-3" / "notes.txt").write_text("mine\n")
    (worktrees / "issue-4").mkdir()
    git(worktrees / "issue-4", "init", "-q", "-b", "main")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep\n")
    (worktrees / "issue-5").symlink_to(outside)
    (worktrees / "scratch").mkdir()
    report = clean_workspaces(manager, force=True)
    assert report.removed == [] and report.refused == []
    assert [line.split(":")[0] for line in report.left_alone] == ["issue-3", "issue-4", "issue-5", "scratch"]
    assert "is a folder that is not a git worktree" in report.left_alone[0]
    assert "is a git repository of its own" in report.left_alone[1]
    assert "is a symbolic link" in report.left_alone[2]
    assert (worktrees / "issue-3" / "notes.txt").exists() and (worktrees / "issue-4" / ".git").is_dir()
    assert (outside / "keep.txt").exists() and (worktrees / "issue-5").is_symlink()


def test_an_empty_folder_is_removed(repo: Path, manager: WorkspaceManager) -> None:
    (repo / ".worktrees" / "issue-3").mkdir(parents=True)
    assert clean_workspaces(manager).removed == ["issue-3: empty folder removed"]


def test_unmerged_branches_are_refused_merged_ones_deleted(repo: Path, manager: WorkspaceManager) -> None:
    unmerged = manager.prepare(7).path
    for index in range(3):
        commit_file(unmerged, f"work{index}.txt", "x\n", f"work {index}")
    merged = manager.prepare(8).path
    commit_file(merged, "done.txt", "x\n", "done")
    git(repo, "merge", "-q", "--ff-only", "feature/issue-8")
    manager.prepare(9)
    report = clean_workspaces(manager, delete_branches=True)
    assert report.refused == ["feature/issue-7: 3 commits not merged into main — use --force to delete anyway"]
    assert report.removed == [
        "issue-7: worktree removed", "issue-8: worktree removed", "issue-9: worktree removed",
        "feature/issue-8: branch deleted", "feature/issue-9: branch deleted",
    ]
    assert git(repo, "branch", "--list", "feature/issue-*").split() == ["feature/issue-7"]
    forced = clean_workspaces(manager, delete_branches=True, force=True)
    assert forced.removed == ["feature/issue-7: branch deleted, with 3 commits not merged into main"]


def test_branches_whose_worktree_is_already_gone_are_found(repo: Path, manager: WorkspaceManager) -> None:
    commit_file(manager.prepare(7).path, "work.txt", "x\n", "work")
    manager.prepare(8)
    manager.remove(7)
    manager.remove(8)
    report = clean_workspaces(manager, delete_branches=True)
    assert report.removed == ["feature/issue-8: branch deleted"]
    assert report.refused == ["feature/issue-7: 1 commit not merged into main — use --force to delete anyway"]


def test_pushed_commits_are_not_lost_by_deleting_the_local_branch(repo: Path, manager: WorkspaceManager, tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "remote.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    path = manager.prepare(7).path
    commit_file(path, "work.txt", "x\n", "work")
    git(path, "push", "-q", "origin", "feature/issue-7")
    assert clean_workspaces(manager, delete_branches=True).refused == []
    assert git(repo, "branch", "--list", "feature/issue-7") == ""


def test_the_operators_branch_and_checkout_are_kept(repo: Path, manager: WorkspaceManager) -> None:
    manager.prepare(7)
    manager.remove(7)
    git(repo, "checkout", "-q", "feature/issue-7")
    before = operator_state(repo)
    report = clean_workspaces(WorkspaceManager(repo, base_branch="main"), delete_branches=True, force=True)
    assert report.left_alone == [f"feature/issue-7: kept, checked out at {repo}"]
    assert operator_state(repo) == before


def test_only_the_named_issues(repo: Path, manager: WorkspaceManager) -> None:
    manager = WorkspaceManager(repo, warm_pool=1)
    manager.prepare(7)
    manager.prepare(8)
    manager.refill()
    (repo / ".worktrees" / "scratch").mkdir()
    report = clean_workspaces(manager, numbers=[8], delete_branches=True)
    assert report == CleanReport(removed=["issue-8: worktree removed", "feature/issue-8: branch deleted"])
    assert (repo / ".worktrees" / "issue-7").exists()
    assert len(list((repo / ".worktrees" / ".pool").iterdir())) == 1, "the pool is drained only by a full clean"


def test_the_warm_pool_is_drained_and_strangers_there_kept(repo: Path) -> None:
    manager = WorkspaceManager(repo, warm_pool=2)
    manager.refill()
    (repo / ".worktrees" / ".pool" / "slot-mine").mkdir()
    (repo / ".worktrees" / ".pool" / "slot-mine" / "notes.txt").write_text("x\n")
    report = clean_workspaces(manager)
    assert report.removed == ["warm pool: 2 prepared worktrees removed"]
    assert len(report.left_alone) == 1 and "slot-mine is a folder that is not a git worktree" in report.left_alone[0]
    assert [slot.name for slot in (repo / ".worktrees" / ".pool").iterdir()] == ["slot-mine"]


def test_a_half_made_worktree_is_removed_when_it_holds_nothing_else(repo: Path, manager: WorkspaceManager) -> None:
    path = manager.prepare(7).path
    admin = repo / ".git" / "worktrees" / "issue-7"
    (admin / "index").unlink()
    (admin / "locked").write_text("initializing\n")
    age(admin / "locked")
    (path / "notes.txt").write_text("x\n")
    assert clean_workspaces(manager).refused == ["issue-7: 1 file its interrupted checkout did not write — use --force to remove anyway"]
    (path / "notes.txt").unlink()
    assert clean_workspaces(manager).removed == ["issue-7: half-made worktree removed"]
    assert not path.exists()
