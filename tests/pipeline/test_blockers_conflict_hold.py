"""A dependant whose blockers' work conflicts, through the engine (`dependants_wait_for = gate_passed`,
a diamond: #5 on #2, #3 and #4, each on #1; #2 and #4 write the same file): it is held before any
session of it is recorded, nothing charged, the hold naming the issues and the file in the event
log, the plan and `status`; a restart reads the hold from the log; a new commit on a blocker's
branch that settles the conflict, or a blocker merged, lets it start, as a first attempt."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.engine.conftest import write_issue, write_script
from tests.git_checkout import make_checkout
from tests.github.fake_github import FakeGitHub
from tests.pipeline.test_stacked_on_several import AGENT, OPTIONS, STEPS
from tests.pipeline.worktree_session import git, with_bare_remote
from tests.waiting import until
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.cli import cli
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks

HELD = (
    "#2 and #4 change the same lines (file shared.txt), so #5 cannot start from all of their work:"
    " it waits until one of them is merged, or the conflict is resolved on one of their branches"
)


@pytest.fixture
def github(github: FakeGitHub) -> FakeGitHub:
    github.add_repo("octo/app")
    return github


def _world(tmp_path: Path) -> Path:
    repo = make_checkout(tmp_path / "repo")
    with_bare_remote(repo, tmp_path / "origin.git")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Schema")
    for number in (2, 3, 4):
        write_issue(issues, number, f"Part {number}", depends_on="[1]")
    write_issue(issues, 5, "Page of all parts", depends_on="[2, 3, 4]")
    write_script(tmp_path, "agent.py", "SHARED_BY = ['2', '4']\nIDLE = False\n" + AGENT)
    return repo


def _engine(tmp_path: Path, repo: Path, client: GitHubClient) -> Engine:
    agent = make_agent("command", {"argv": [sys.executable, str(tmp_path / "agent.py")]}, EnvPolicy())
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=3)
    store_path = tmp_path / "state" / "state.db"
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(tmp_path / "issues"), 0.2)], agent=agent, pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=3, dependants_wait_for="gate_passed"), steps=make_steps(STEPS, OPTIONS, github=client),
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=600.0, dependants_wait_for="gate_passed"),
    )
    engine.blocker_conflicts.look_every_s = 0.1
    return engine


def _settle_on_blocker_4(repo: Path) -> None:
    """#4 gives shared.txt up to #2 (a new commit on its branch): their work merges now."""
    path = repo / ".worktrees" / "issue-4"
    if not path.is_dir():
        git(repo, "worktree", "add", "-q", str(path), "feature/issue-4")
    git(path, "rm", "-q", "shared.txt")
    (path / "part-4.txt").write_text("written by 4\n")
    git(path, "add", "part-4.txt")
    git(path, "commit", "-q", "-m", "issue 4: shared.txt is #2's")


@pytest.mark.parametrize("settled_by", ["a commit on a blocker's branch", "a blocker merged"])
async def test_a_dependant_whose_blockers_conflict_is_held_without_a_session_until_a_blocker_settles_it(
    tmp_path: Path, github: FakeGitHub, client: GitHubClient, settled_by: str,
) -> None:
    repo = _world(tmp_path)
    engine = _engine(tmp_path, repo, client)
    running = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.snapshot.tasks.get("local#5") is not None and engine.snapshot.tasks["local#5"].blockers_conflict is not None)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(running, 60)
    task = engine.snapshot.tasks["local#5"]
    held = task.blockers_conflict
    assert held is not None and held.reason == HELD
    assert (held.issues, held.files, held.executor) == (("local#2", "local#4"), ("shared.txt",), "local")
    assert dict(held.heads)["feature/issue-4"] == git(repo, "rev-parse", "feature/issue-4")
    assert task.state is TaskState.QUEUED and task.attempts == 0 and task.history == () and task.session is None, "no session, nothing charged"
    assert [item.detail for item in engine.plan().blocked if item.issue == "local#5"] == [HELD]
    assert git(repo, "branch", "--list", "feature/issue-5") == "", "no worktree or branch was made for it"
    holds = [e for e in engine.store.log.read() if isinstance(e, ev.BlockersConflicted)]
    assert len(holds) == 1, "said once, however often it was looked at"
    status = CliRunner().invoke(cli, ["status", "--store", str(tmp_path / "state" / "state.db"), "--repo-path", str(repo)])
    assert status.exit_code == 0, status.output
    assert f"held: {HELD}" in status.output

    # Another run reads the hold from the log; a commit on #4's branch, or #4's pull request merged, settles it.
    again = _engine(tmp_path, repo, client)
    assert again.snapshot.tasks["local#5"].blockers_conflict == held
    running = asyncio.create_task(again.run())
    try:
        if settled_by == "a blocker merged":
            again.record(ev.PullRequestMerged(ts=again.clock.now(), issue="local#4", number=4))
        else:
            _settle_on_blocker_4(repo)
        await until(lambda: again.snapshot.tasks["local#5"].state is TaskState.SUCCEEDED)
    finally:
        await again.stop(leave_running=False)
        await asyncio.wait_for(running, 60)
    events = [e for e in again.store.log.read() if e.issue_key == "local#5" and isinstance(e, (ev.BlockersConflicted, ev.SessionStarted))]
    assert [(type(e).__name__, getattr(e, "reason", None)) for e in events] == [
        ("BlockersConflicted", HELD), ("BlockersConflicted", ""), ("SessionStarted", None),
    ]
    started = events[-1]
    assert isinstance(started, ev.SessionStarted) and started.session.attempt == 1
    assert git(repo, "show", "feature/issue-5:shared.txt") == "written by 2"
