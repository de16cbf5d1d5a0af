"""A checkout killed midway is rebuilt, never handed to an agent; stale git locks of dead processes are cleared."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.adapters.workspace_repo import add_slow_file, age, commit_file, git, kill_midway, make_repo, operator_state
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager
from waterspider_tui.adapters.workspace_locks import ABANDONED_AFTER_S


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path)
    add_slow_file(root)
    return root


def tracked(path: Path) -> set[str]:
    return set(git(path, "ls-files").splitlines())


def admin(repo: Path, name: str) -> Path:
    return repo / ".git" / "worktrees" / name


def test_a_checkout_killed_midway_is_half_made(repo: Path) -> None:
    """What a SIGKILL during `git worktree add` leaves: locked "initializing", a stale index.lock, most files missing."""
    kill_midway(repo, "manager.prepare(7)")
    path = repo / ".worktrees" / "issue-7"
    assert (admin(repo, "issue-7") / "locked").read_text().strip() == "initializing"
    assert (admin(repo, "issue-7") / "index.lock").exists()
    assert not (path / "z0.txt").exists() and (path / "a0.txt").exists()
    assert "D  z0.txt" in git(path, "status", "--porcelain").splitlines(), "committing everything here would delete files"


def test_a_checkout_killed_midway_is_rebuilt_on_its_branch(repo: Path) -> None:
    before = operator_state(repo)
    kill_midway(repo, "manager.prepare(7)")
    age(admin(repo, "issue-7") / "locked", admin(repo, "issue-7") / "index.lock")
    workspace = WorkspaceManager(repo).prepare(7)
    assert workspace.reused is False
    assert git(workspace.path, "status", "--porcelain") == ""
    assert (workspace.path / "z0.txt").read_text() == "z0\n" and (workspace.path / "m.txt").read_text() == "middle\n"
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-7"
    assert git(repo, "rev-parse", "feature/issue-7") == git(repo, "rev-parse", "main")
    assert "locked" not in git(repo, "worktree", "list", "--porcelain")
    assert operator_state(repo) == before


def test_a_rebuilt_worktree_keeps_the_branchs_commits(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    first = manager.prepare(7)
    commit_file(first.path, "work.py", "done = True\n", "earlier attempt")
    tip = git(repo, "rev-parse", "feature/issue-7")
    manager.remove(7)
    kill_midway(repo, "manager.prepare(7)")
    age(admin(repo, "issue-7") / "locked", admin(repo, "issue-7") / "index.lock")
    again = manager.prepare(7)
    assert git(repo, "rev-parse", "feature/issue-7") == tip
    assert (again.path / "work.py").read_text() == "done = True\n"
    assert git(again.path, "status", "--porcelain") == ""


def test_a_half_made_worktree_holding_other_files_is_refused_and_kept(repo: Path) -> None:
    kill_midway(repo, "manager.prepare(7)")
    age(admin(repo, "issue-7") / "locked", admin(repo, "issue-7") / "index.lock")
    path = repo / ".worktrees" / "issue-7"
    (path / "notes.txt").write_text("not from the checkout\n")
    with pytest.raises(WorkspaceError, match=r"issue-7 was left half-made by an interrupted checkout.*notes\.txt"):
        WorkspaceManager(repo).prepare(7)
    assert (path / "notes.txt").read_text() == "not from the checkout\n"


def test_a_half_made_worktree_in_use_by_a_live_process_is_left_alone(repo: Path) -> None:
    kill_midway(repo, "manager.prepare(7)")
    age(admin(repo, "issue-7") / "locked", admin(repo, "issue-7") / "index.lock")
    path = repo / ".worktrees" / "issue-7"
    with subprocess.Popen(["sleep", "30"], cwd=path) as sleeper:
        try:
            with pytest.raises(WorkspaceError, match=rf"issue-7 is in use by process {sleeper.pid}"):
                WorkspaceManager(repo).prepare(7)
        finally:
            sleeper.kill()
    assert (admin(repo, "issue-7") / "locked").exists()


def test_a_stale_index_lock_is_cleared_when_the_worktree_is_reused(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    lock = admin(repo, "issue-7") / "index.lock"
    lock.write_text("")
    age(lock)
    assert manager.prepare(7).reused
    assert not lock.exists()
    commit_file(path, "after.txt", "x\n", "git works here again")


def test_a_lock_left_moments_ago_is_waited_out_then_cleared(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A git killed just before the run started: its young index.lock is given the rest of its age, not a failed commit."""
    from waterspider_tui.adapters import workspace_locks

    monkeypatch.setattr(workspace_locks, "ABANDONED_AFTER_S", 0.3)
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    lock = admin(repo, "issue-7") / "index.lock"
    lock.write_text("")
    assert manager.prepare(7).reused
    assert not lock.exists()
    commit_file(path, "after.txt", "x\n", "git works here again")


def test_an_index_lock_of_a_live_git_is_kept(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    lock = admin(repo, "issue-7") / "index.lock"
    lock.write_text("")
    age(lock)
    with subprocess.Popen(["sleep", "30"], cwd=path) as sleeper:
        try:
            assert manager.prepare(7).reused
            assert lock.exists(), "a process works in the worktree: its lock is not ours to take"
        finally:
            sleeper.kill()


def test_a_pool_slot_killed_midway_is_discarded_not_used(repo: Path) -> None:
    kill_midway(repo, "manager.refill()")
    pool = repo / ".worktrees" / ".pool"
    [broken] = list(pool.glob("slot-*"))
    age(*admin(repo, broken.name).iterdir())
    manager = WorkspaceManager(repo, warm_pool=1)
    workspace = manager.prepare(7)
    assert git(workspace.path, "status", "--porcelain") == ""
    assert (workspace.path / "z0.txt").exists()
    assert broken.exists(), "taking a slot never spends time removing one"
    manager.refill()
    assert not broken.exists(), "a refill discards it"
    assert [slot.name for slot in pool.glob("slot-*")] != [broken.name]
    assert len(list(pool.glob("slot-*"))) == 1
    assert "initializing" not in git(repo, "worktree", "list", "--porcelain")


def test_a_checkout_killed_before_head_was_written_is_rebuilt(repo: Path) -> None:
    """git writes a null HEAD first and points it at the branch later: git cannot even read such a worktree."""
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    state = admin(repo, "issue-7")
    (state / "HEAD").write_text("0" * 40 + "\n")
    (state / "index").unlink()
    (state / "locked").write_text("initializing\n")
    for file in path.iterdir():
        if file.name != ".git":
            subprocess.run(["rm", "-rf", str(file)], check=True)
    age(state / "locked")
    again = manager.prepare(7)
    assert again.reused is False
    assert git(again.path, "status", "--porcelain") == ""
    assert (again.path / "README.md").exists()


def test_right_after_a_crash_the_rebuild_waits_for_the_locks_to_settle(repo: Path) -> None:
    """A restart can dispatch within a second of the kill: it waits out ABANDONED_AFTER_S instead of failing."""
    kill_midway(repo, "manager.prepare(7)")
    started = time.monotonic()
    workspace = WorkspaceManager(repo).prepare(7)
    assert git(workspace.path, "status", "--porcelain") == ""
    assert time.monotonic() - started <= ABANDONED_AFTER_S + 1.5
