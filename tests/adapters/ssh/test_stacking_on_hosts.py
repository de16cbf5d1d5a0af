"""A stacked dependant on an SSH host (`dependants_wait_for = gate_passed`), with the real engine, a
real sshd on loopback and a local executor beside it. Its blockers' work conflicting, it is held
before any session (the merges tried on the host) until a commit on a blocker's branch settles it;
then it starts from its first blocker's branch, the orchestrator's own (that blocker ran here),
brought to the host over the SSH connection, with the other blocker's branch, made on the host,
merged in, as the local executor stacks them. A conflict met at prepare names the issues and
files and leaves nothing half merged on the host."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.adapters.executors.base import ExecutorError, WorkOrder
from waterspider_tui.core.models import SessionInfo, TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store

from remote_sessions import until
from sshd_server import SshServer

AGENT = """
import os, subprocess, sys
number = os.environ["WATERSPIDER_ISSUE_NUMBER"]
shared_by = os.environ.get("SHARED_BY", "").split(",")
if number == "3" and not os.path.exists("shared.txt"):
    sys.exit("started without #1's work")
name = "shared.txt" if number in shared_by else f"part-{number}.txt"
with open(name, "w") as out:
    out.write(f"written by {number}\\n")
subprocess.run(["git", "add", name], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", f"issue {number}"], check=True)
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _engine(tmp_path: Path, origin: Path, server: SshServer, shared_by: str = "") -> tuple[Engine, Path]:
    here = tmp_path / "orchestrator"
    git(tmp_path, "clone", "-q", str(origin), str(here))
    for key, value in (("user.name", "orchestrator"), ("user.email", "orchestrator@waterspider.invalid")):
        git(here, "config", key, value)
    issues = tmp_path / "issues"
    issues.mkdir()
    for number, front in ((1, "labels: [host:local]"), (2, "labels: [host:mini-1]"), (3, "labels: [host:mini-1]\ndepends_on: [1, 2]")):
        (issues / f"{number:03d}.md").write_text(f"---\ntitle: Issue {number}\n{front}\n---\nbody of {number}\n")
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    agent = make_agent("command", {"argv": [sys.executable, str(script)], "env": {"SHARED_BY": shared_by}}, EnvPolicy())
    local = LocalExecutor(WorkspaceManager(here), tmp_path / "state" / "sessions", slots=1)
    remote = SshExecutor([server.host("mini-1", slots=2)], local_repo=here)
    engine = Engine(
        store=open_store(tmp_path / "state" / "state.db"), sources=[(LocalIssueSource(issues), 0.2)], agent=agent,
        pool=ExecutorPool([local, remote]), scheduler=SchedulerConfig(capacity=3, dependants_wait_for="gate_passed"),
        policy=SessionPolicy(stall_timeout_s=60.0, timeout_s=120.0, grace_s=1.0, max_attempts=1, retry_backoff_s=600.0, dependants_wait_for="gate_passed"),
        steps=make_steps(["commits"]),
    )
    engine.blocker_conflicts.look_every_s = 0.1
    return engine, here


def _branch_with(repo: Path, branch: str, name: str, text: str) -> None:
    """`branch` from main in `repo` with one commit writing `name`, the checkout left as it was."""
    git(repo, "worktree", "add", "-q", "-b", branch, str(repo.parent / f"wt-{branch.replace('/', '-')}"), "main")
    worktree = repo.parent / f"wt-{branch.replace('/', '-')}"
    (worktree / name).write_text(text)
    git(worktree, "add", name)
    git(worktree, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", f"{branch}: {name}")
    git(repo, "worktree", "remove", "--force", str(worktree))


async def test_blockers_whose_work_conflicts_on_a_host_are_named_and_nothing_half_merged_is_left(
    tmp_path: Path, origin: Path, server: SshServer,
) -> None:
    here = tmp_path / "orchestrator"
    git(tmp_path, "clone", "-q", str(origin), str(here))
    _branch_with(here, "feature/issue-1", "shared.txt", "written by 1\n")  # #1 ran on the orchestrator's machine
    clone = server.home / "src" / "repo"
    _branch_with(clone, "feature/issue-2", "shared.txt", "written by 2\n")  # #2 ran on the host
    executor = SshExecutor([server.host("mini-1")], local_repo=here)
    order = WorkOrder(issue_key="local#3", number=3, repo="local", attempt=1, token="c0nf1ict")
    paths = executor.locate(order, "mini-1")
    session = SessionInfo(
        session_id="3-1-c0nf1ict", issue="local#3", attempt=1, executor=executor.name, host="mini-1", worktree=paths.worktree,
        branch=paths.branch, log_path=f"{paths.session_dir}/stdout.jsonl", session_dir=paths.session_dir, started_at=0.0,
        base_branch="feature/issue-1", stacked_on="local#1", merged_in=(("local#2", "feature/issue-2"),), shipped_branches=("feature/issue-1",),
    )
    try:
        with pytest.raises(ExecutorError) as raised:
            await executor.prepare(session)
    finally:
        await executor.close()
    assert raised.value.error_class == "blockers_conflict"
    assert str(raised.value) == (
        "mini-1: #1 and #2 change the same lines (file shared.txt), so #3 cannot start from all of their work:"
        " it waits until one of them is merged, or the conflict is resolved on one of their branches"
    )
    assert git(clone, "rev-parse", "feature/issue-1") == git(here, "rev-parse", "feature/issue-1"), "#1's branch was brought over"
    assert git(clone, "branch", "--list", "feature/issue-3") == "", "the fresh branch is removed with its worktree"
    assert not Path(paths.worktree).exists() and git(clone, "status", "--porcelain") == ""


async def test_a_dependant_whose_blockers_conflict_on_a_host_is_held_before_any_session_until_one_settles_it(
    tmp_path: Path, origin: Path, server: SshServer,
) -> None:
    """#1 (here) and #2 (on mini-1) both write shared.txt: #3, for mini-1, is held with no session;
    once #2's branch on the host gives the file up, it starts there, stacked on both."""
    engine, here = _engine(tmp_path, origin, server, shared_by="1,2")
    running = asyncio.create_task(engine.run())
    try:
        await until(lambda: (task := engine.snapshot.tasks.get("local#3")) is not None and task.blockers_conflict is not None, "#3 held")
        task = engine.snapshot.tasks["local#3"]
        assert task.blockers_conflict is not None and (task.blockers_conflict.executor, task.blockers_conflict.host) == ("ssh", "mini-1")
        assert task.blockers_conflict.reason.startswith("#1 and #2 change the same lines (file shared.txt), so #3 cannot start")
        assert task.session is None and task.attempts == 0, "no session, nothing charged"
        worktree = server.home / "src" / "repo" / ".worktrees" / "issue-2"
        git(worktree, "rm", "-q", "shared.txt")
        git(worktree, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "issue 2: shared.txt is #1's")
        await until(lambda: engine.snapshot.tasks["local#3"].state is TaskState.SUCCEEDED, "#3 started once settled")
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(running, 60)
    task = engine.snapshot.tasks["local#3"]
    assert [(attempt.attempt, attempt.host) for attempt in task.history] == [(1, "mini-1")]
    # It started from #1's branch, the orchestrator's, brought to the host, with #2's (the host's) merged in.
    session = task.session
    assert session is not None and (session.stacked_on, session.base_branch, session.merged_in) == ("local#1", "feature/issue-1", (("local#2", "feature/issue-2"),))
    clone = server.home / "src" / "repo"
    assert git(clone, "rev-parse", "feature/issue-1") == git(here, "rev-parse", "feature/issue-1"), "#1's commits reached the host"
    assert git(clone, "show", "feature/issue-3:shared.txt") == "written by 1"
    subjects = git(clone, "log", "--format=%s", "main..feature/issue-3").splitlines()
    assert subjects[:2] == ["issue 3", "Merge feature/issue-2 (#2) into feature/issue-3: #3 depends on it"]
    assert session.facts["commits"] == 1, "its own commit, not its blockers' nor the merge"
    assert not [warning for warning in engine.snapshot.warnings if "without the work of" in warning]
