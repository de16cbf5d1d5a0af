"""Issue worktrees in a real git repository: create, reuse, count commits, remove; the operator's checkout untouched."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.adapters.workspace_repo import commit_file, git, make_repo
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager, branch_name
from waterspider_tui.adapters.workspace_checks import Found

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def test_prepare_creates_the_worktree_on_the_feature_branch_from_base(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    assert manager.base_branch == "main", "the current branch by default"
    workspace = manager.prepare(7)
    assert workspace.path == repo.resolve() / ".worktrees" / "issue-7"
    assert (workspace.branch, workspace.base, workspace.reused) == ("feature/issue-7", "main", False)
    assert (workspace.path / ".git").is_file()
    assert (workspace.path / "src" / "app.py").read_text() == "print('hi')\n"
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-7"
    assert git(workspace.path, "rev-parse", "HEAD") == git(repo, "rev-parse", "main")
    assert str(workspace.path) in git(repo, "worktree", "list")


def test_prepare_branches_from_the_configured_base_not_the_current_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "release")
    commit_file(repo, "release.txt", "r\n", "release only")
    workspace = WorkspaceManager(repo, base_branch="main").prepare(3)
    assert git(workspace.path, "rev-parse", "HEAD") == git(repo, "rev-parse", "main")
    assert not (workspace.path / "release.txt").exists()
    assert WorkspaceManager(repo).base_branch == "release"


def test_second_prepare_reuses_the_worktree_as_it_was_left(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    first = manager.prepare(7)
    (first.path / "work.txt").write_text("half done\n")
    second = manager.prepare(7)
    assert second.reused is True
    assert (second.path, second.branch) == (first.path, first.branch)
    assert (second.path / "work.txt").read_text() == "half done\n"
    # a new manager (after a restart) reuses it too
    assert WorkspaceManager(repo).prepare(7).reused is True


def test_the_operators_checkout_is_untouched(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "operator-work")
    (repo / "README.md").write_text("# staged edit\n")
    git(repo, "add", "README.md")
    (repo / "src" / "app.py").write_text("print('unstaged edit')\n")
    (repo / "scratch.txt").write_text("untracked\n")
    head = git(repo, "rev-parse", "HEAD")
    status = git(repo, "status", "--porcelain")
    staged = git(repo, "diff", "--cached")
    unstaged = git(repo, "diff")
    assert status == "M  README.md\n M src/app.py\n?? scratch.txt"

    manager = WorkspaceManager(repo, base_branch="main")
    workspace = manager.prepare(4)
    commit_file(workspace.path, "feature.py", "x = 1\n", "feature work")
    manager.prepare(4)
    manager.commits_since_base(workspace.branch)
    manager.remove(4, delete_branch=True)

    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "operator-work"
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "diff", "--cached") == staged
    assert git(repo, "diff") == unstaged
    assert (repo / "README.md").read_text() == "# staged edit\n"
    assert (repo / "src" / "app.py").read_text() == "print('unstaged edit')\n"
    assert (repo / "scratch.txt").read_text() == "untracked\n"
    assert not (repo / "feature.py").exists()


def test_worktrees_folder_is_excluded_once(repo: Path) -> None:
    exclude = repo / ".git" / "info" / "exclude"
    exclude.write_text("# git ls-files --others --exclude-from=.git/info/exclude\n*.log")  # no final newline
    manager = WorkspaceManager(repo)
    manager.prepare(1)
    manager.prepare(2)
    WorkspaceManager(repo).prepare(3)
    lines = exclude.read_text().splitlines()
    assert lines.count("/.worktrees/") == 1
    assert "*.log" in lines, "the operator's own entries stay"
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".gitignore").exists()


def test_remove_the_worktree_and_optionally_the_branch(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    workspace = manager.prepare(5)
    assert manager.remove(5) is True
    assert not workspace.path.exists()
    assert str(workspace.path) not in git(repo, "worktree", "list")
    assert "feature/issue-5" in git(repo, "branch", "--list", "feature/issue-5")

    manager.prepare(5)
    assert manager.remove(5, delete_branch=True) is True
    assert git(repo, "branch", "--list", "feature/issue-5") == ""
    assert manager.remove(5) is False
    assert manager.remove(99, delete_branch=True) is False


def test_remove_discards_uncommitted_work_in_the_worktree(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    workspace = manager.prepare(6)
    (workspace.path / "README.md").write_text("dirty\n")
    assert manager.remove(6) is True
    assert not workspace.path.exists()
    assert (repo / "README.md").read_text() == "# project\n"


def test_commits_since_base_counts_commits_and_changed_files(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    workspace = manager.prepare(8)
    assert manager.commits_since_base(workspace.branch) == (0, 0)
    commit_file(workspace.path, "a.py", "a\n", "one")
    commit_file(workspace.path, "b.py", "b\n", "two")
    (workspace.path / "README.md").write_text("# changed\n")
    git(workspace.path, "commit", "-q", "-am", "three")
    assert manager.commits_since_base(workspace.branch) == (3, 3)
    # work on the base after branching is not counted
    commit_file(repo, "main-only.txt", "m\n", "on main")
    assert manager.commits_since_base(workspace.branch) == (3, 3)
    assert manager.commits_since_base("no-such-branch") == (0, 0)


def test_a_kept_branch_is_checked_out_again_with_its_commits(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    workspace = manager.prepare(9)
    commit_file(workspace.path, "done.py", "ok\n", "work")
    manager.remove(9)
    again = manager.prepare(9)
    assert again.reused is False
    assert (again.path / "done.py").read_text() == "ok\n"
    assert manager.commits_since_base(again.branch) == (1, 1)


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorkspaceError, match="is not a git repository"):
        WorkspaceManager(plain)
    with pytest.raises(WorkspaceError, match="is not a git repository"):
        WorkspaceManager(tmp_path / "missing")


def test_a_bare_repository_is_refused(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "bare.git")
    with pytest.raises(WorkspaceError, match="bare repository"):
        WorkspaceManager(tmp_path / "bare.git")


def test_an_unknown_base_branch_is_a_workspace_error(repo: Path) -> None:
    manager = WorkspaceManager(repo, base_branch="does-not-exist")
    with pytest.raises(WorkspaceError, match="git worktree add issue-2 on feature/issue-2 failed"):
        manager.prepare(2)
    assert manager.existing() == []


def test_multi_repo_names(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    assert branch_name(3) == "feature/issue-3"
    assert branch_name(3, "o/r", multi_repo=True) == "feature/o-r-issue-3"
    workspace = manager.prepare(3, "o/r", multi_repo=True)
    assert workspace.path == repo.resolve() / ".worktrees" / "o-r-issue-3"
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/o-r-issue-3"
    assert manager.remove(3, "o/r", multi_repo=True, delete_branch=True) is True


def test_concurrent_prepares_all_succeed(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    with ThreadPoolExecutor(max_workers=4) as pool:
        workspaces = list(pool.map(manager.prepare, range(1, 7)))
    assert [w.path.name for w in workspaces] == [f"issue-{n}" for n in range(1, 7)]
    assert [path.name for path in manager.existing()] == sorted(f"issue-{n}" for n in range(1, 7))


def test_warm_pool_hands_over_a_prepared_worktree_on_the_right_branch(repo: Path) -> None:
    manager = WorkspaceManager(repo, warm_pool=2)
    assert manager.refill() == 2
    assert len(list((repo / ".worktrees" / ".pool").iterdir())) == 2
    commit_file(repo, "src/later.py", "x = 1\n", "base moved after the pool was filled")
    workspace = manager.prepare(5)
    assert workspace.path == repo / ".worktrees" / "issue-5" and not workspace.reused
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-5"
    assert git(workspace.path, "rev-parse", "HEAD") == git(repo, "rev-parse", "main"), "starts from the base as it is now"
    assert (workspace.path / "src" / "later.py").exists()
    assert git(workspace.path, "status", "--porcelain") == ""
    assert len(list((repo / ".worktrees" / ".pool").iterdir())) == 1
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main", "the operator's checkout stays put"


def test_warm_pool_switches_to_an_existing_branch_for_a_retry(repo: Path) -> None:
    manager = WorkspaceManager(repo, warm_pool=1)
    first = manager.prepare(3)
    commit_file(first.path, "work.txt", "done\n", "agent work")
    manager.remove(3)
    manager.refill()
    again = manager.prepare(3)
    assert (again.path / "work.txt").read_text() == "done\n", "the branch's earlier work is kept"
    manager.drain_pool()
    assert not list((repo / ".worktrees" / ".pool").glob("slot-*"))


def test_a_worktree_left_off_its_branch_is_put_back_on_it(repo: Path) -> None:
    """A stop between moving a pool worktree into place and switching its branch leaves it detached."""
    manager = WorkspaceManager(repo, warm_pool=1)
    manager.refill()
    [slot] = list((repo / ".worktrees" / ".pool").glob("slot-*"))
    git(repo, "worktree", "move", str(slot), str(repo / ".worktrees" / "issue-9"))
    workspace = manager.prepare(9)
    assert workspace.reused
    assert git(workspace.path, "rev-parse", "--abbrev-ref", "HEAD") == "feature/issue-9"


def test_head_read_from_the_worktree_files_agrees_with_git(repo: Path) -> None:
    manager = WorkspaceManager(repo)
    path = manager.prepare(7).path
    assert manager.inspect(path).head == "ref: refs/heads/feature/issue-7" == "ref: " + git(path, "symbolic-ref", "HEAD")
    git(path, "checkout", "-q", "--detach")
    assert manager.inspect(path).head == git(path, "rev-parse", "HEAD"), "detached: the commit itself"
    (path / ".git").write_text("not a pointer\n")
    assert manager.inspect(path).found is Found.FOREIGN


def test_a_pool_worktree_made_before_the_base_moved_starts_from_the_new_base(repo: Path) -> None:
    manager = WorkspaceManager(repo, warm_pool=2)
    manager.refill()
    fresh = manager.prepare(4)
    assert git(fresh.path, "symbolic-ref", "HEAD") == "refs/heads/feature/issue-4"
    assert git(fresh.path, "status", "--porcelain") == "", "index and files are the base's"
    commit_file(repo, "later.txt", "after the pool was filled\n", "base moves on")
    moved = manager.prepare(5)
    assert git(repo, "rev-parse", "feature/issue-5") == git(repo, "rev-parse", "main")
    assert (moved.path / "later.txt").read_text() == "after the pool was filled\n"
    assert git(moved.path, "status", "--porcelain") == ""
