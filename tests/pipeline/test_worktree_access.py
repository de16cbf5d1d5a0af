"""What the control center's o/s/D/R keys ask the real engine, on a real run: the diff of the issue's
branch read through its executor's git, the shell's folder (or the ssh command for a host), and the
results figures from the store's events."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.engine.conftest import write_issue, write_script
from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.executors.ssh_config import HostConfig
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from tests.waiting import until
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks
from waterspider_tui.engine.worktree_access import ssh_command
from waterspider_tui.reporting.results import collect

AGENT = """
import subprocess
with open("greeting.txt", "a") as out:
    out.write("hello\\n")
subprocess.run(["git", "add", "greeting.txt"], check=True)
subprocess.run(["git", "commit", "-q", "-m", "greet"], check=True)
"""


def _engine(tmp_path: Path) -> Engine:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Greet the user")
    write_issue(issues, 2, "Waits on 3", depends_on="[3]")
    write_issue(issues, 3, "Waits on 2", depends_on="[2]")
    agent = make_agent("command", {"argv": [sys.executable, str(write_script(tmp_path, "agent.py", AGENT))]}, EnvPolicy())
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=1)
    store_path = tmp_path / "state" / "state.db"
    return Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(issues), 0.2)], agent=agent, pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=1), steps=make_steps(["commits"]),
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=0.0),
    )


async def test_diff_shell_and_results_of_a_finished_local_session(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    running = asyncio.create_task(engine.run())  # asked while the run goes on, as the control center does
    await until(lambda: "local#1" in engine.snapshot.tasks and engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED)
    task = engine.snapshot.tasks["local#1"]
    assert task.session is not None

    diff = await engine.load_diff("local#1")
    assert " greeting.txt | 1 +" in diff and "diff --git a/greeting.txt b/greeting.txt" in diff and "\n+hello\n" in diff

    target = engine.shell_target("local#1")
    assert target.folder == task.session.worktree and Path(target.folder).is_dir() and not target.command

    figures = await engine.load_results()
    assert figures == collect(engine.store.log.read()).figures()
    assert figures["totals"]["sessions"] == len([e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished)]) == 1
    await engine.stop(leave_running=True)
    await asyncio.wait_for(running, 60)


async def test_an_issue_that_never_ran_has_no_diff_and_no_shell(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    await asyncio.wait_for(engine.run(until_idle=True), 60)
    never = "local#2"
    assert engine.snapshot.tasks[never].session is None
    try:
        await engine.load_diff(never)
    except RuntimeError as error:
        assert "has not run yet" in str(error)
    else:
        raise AssertionError("a diff for an issue that never ran")
    assert "has not run yet" in engine.shell_target(never).reason


def test_the_ssh_command_keeps_the_home_folder_for_the_remote_shell() -> None:
    host = HostConfig(name="mini-1", address="10.0.0.7", user="ci", port=2222, identity_file="~/.ssh/minis", repo_path="~/src/app")
    command = ssh_command(host, "~/src/app/.worktrees/issue 12")
    assert command == "ssh -t -p 2222 -i '~/.ssh/minis' ci@10.0.0.7 'cd ~/'\"'\"'src/app/.worktrees/issue 12'\"'\"' && exec \"${SHELL:-/bin/sh}\" -l'"
    plain = ssh_command(HostConfig(name="mini-2", repo_path="/srv/app"), "/srv/app/.worktrees/issue-3")
    assert plain == "ssh -t mini-2 'cd /srv/app/.worktrees/issue-3 && exec \"${SHELL:-/bin/sh}\" -l'"


def test_the_ssh_command_names_the_files_the_orchestrator_reads_where_they_are_not_the_defaults() -> None:
    host = HostConfig(name="mini-3", repo_path="/srv/app", known_hosts="/etc/waterspider/known_hosts", ssh_config=["/etc/waterspider/ssh_config"])
    assert ssh_command(host, "/srv/app/.worktrees/issue-4").startswith(
        "ssh -t -F /etc/waterspider/ssh_config -o UserKnownHostsFile=/etc/waterspider/known_hosts mini-3 'cd /srv/app/.worktrees/issue-4")
