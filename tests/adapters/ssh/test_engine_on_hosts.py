"""The real engine placing sessions on two SSH hosts: spread by load, committed on each host's
clone, drained host skipped, and a restart that reattaches to a session still running over SSH."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store

from remote_sessions import branch_log, engine_on_hosts, write_issues
from sshd_server import SshServer

AGENT = """
import os, subprocess, sys, time
print("working on", os.environ["WATERSPIDER_ISSUE_NUMBER"], "at", os.uname().nodename, flush=True)
time.sleep(float(os.environ.get("NAP", "0.3")))
with open("work.txt", "a") as out:
    out.write(open(os.environ["WATERSPIDER_ISSUE_BODY_FILE"]).read() or "done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
print("committed", flush=True)
"""


def _engine(tmp_path: Path, servers: list[SshServer], issues: Path, nap: float = 0.3) -> Engine:
    executor = SshExecutor([server.host(f"mini-{index}", slots=1) for index, server in enumerate(servers, start=1)])
    return engine_on_hosts(tmp_path, executor, AGENT, issues, agent_env={"NAP": str(nap)})


async def test_the_engine_spreads_sessions_over_two_hosts_and_each_commit_lands_on_its_host(tmp_path: Path, make_server) -> None:
    servers = [make_server("mini-1"), make_server("mini-2")]
    issues = tmp_path / "issues"
    write_issues(issues, 4)
    engine = _engine(tmp_path, servers, issues)
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    tasks = engine.snapshot.tasks
    assert {task.state for task in tasks.values()} == {TaskState.SUCCEEDED}
    hosts = {task.key: task.history[-1].host for task in tasks.values()}
    assert set(hosts.values()) == {"mini-1", "mini-2"}, f"both hosts took work: {hosts}"
    for task in tasks.values():
        server = servers[int(hosts[task.key][-1]) - 1]
        assert branch_log(server.home / "src" / "repo", f"feature/issue-{task.issue.number}") == ["work"]
        assert task.result is not None and task.result.commits == 1
        assert task.session is not None and task.session.placement.startswith("on mini-")
    entries = await engine.load_session_log("local#1")
    assert entries[-1].text == "committed", "a finished session's log is read back over SSH"


async def test_a_drained_host_gets_no_new_session(tmp_path: Path, make_server) -> None:
    servers = [make_server("mini-1"), make_server("mini-2")]
    issues = tmp_path / "issues"
    write_issues(issues, 3)
    engine = _engine(tmp_path, servers, issues)
    await engine.submit(cmd.PauseDispatcher())
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        while "mini-2" not in engine.snapshot.hosts:
            await asyncio.sleep(0.05)
        assert await engine.submit(cmd.DrainHost(host="mini-2")) == "mini-2 drained: no new sessions there"
        await engine.submit(cmd.ResumeDispatcher())
        while any(task.state is not TaskState.SUCCEEDED for task in engine.snapshot.tasks.values()) or len(engine.snapshot.tasks) < 3:
            await asyncio.sleep(0.1)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    assert {task.history[-1].host for task in engine.snapshot.tasks.values()} == {"mini-1"}


async def test_a_session_left_running_on_a_host_is_reattached_after_a_restart(tmp_path: Path, make_server) -> None:
    servers = [make_server("mini-1")]
    issues = tmp_path / "issues"
    write_issues(issues, 1)
    first = _engine(tmp_path, servers, issues, nap=3.0)
    runner = asyncio.create_task(first.run())
    while not ((task := first.snapshot.tasks.get("local#1")) is not None and task.session is not None and task.session.pid):
        await asyncio.sleep(0.05)
    await first.stop(leave_running=True)
    await asyncio.wait_for(runner, 30)
    assert first.snapshot.tasks["local#1"].state is TaskState.RUNNING

    second = _engine(tmp_path, servers, issues)
    await asyncio.wait_for(second.run(until_idle=True), 90)
    finished = [e for e in second.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert [e.result.outcome for e in finished] == [Outcome.SUCCEEDED] and finished[0].result.commits == 1
    assert any(isinstance(e, ev.SessionSpawned) and e.reattached for e in second.store.log.read())
    assert branch_log(servers[0].home / "src" / "repo", "feature/issue-1") == ["work"], "one agent, one commit"


async def test_a_gate_command_runs_in_the_worktree_on_the_host_with_a_timeout(server: SshServer) -> None:
    from remote_sessions import new_session

    executor = SshExecutor([server.host()])
    session = new_session(executor, number=5)
    try:
        workspace = await executor.prepare(session)
        done = await executor.run(session, ["sh", "-c", "pwd; echo secret=${GITHUB_TOKEN:-none}; exit 3"], 10.0, env={"GATE": "1"})
        assert done.returncode == 3 and not done.timed_out
        assert done.stdout.splitlines() == [workspace.path, "secret=none"], "in the worktree, without the orchestrator's secrets"
        slow = await executor.run(session, ["sh", "-c", "echo started; sleep 30"], 0.5)
        assert slow.timed_out and slow.returncode == 124 and "started" in slow.stdout
        missing = await executor.run(session, ["no-such-program"], 5.0)
        assert missing.returncode == 127
    finally:
        await executor.close()


async def test_labels_choose_the_host_and_an_issue_no_host_fits_waits_without_holding_up_the_rest(tmp_path: Path, make_server) -> None:
    servers = [make_server("mini-1"), make_server("mini-2")]
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    agent = make_agent("command", {"argv": [sys.executable, str(script)], "env": {"NAP": "0.2"}}, EnvPolicy())
    executor = SshExecutor([servers[0].host("mini-1", slots=2, labels=["macos"]), servers[1].host("mini-2", slots=2, labels=["linux", "gpu"])])
    issues = tmp_path / "issues"
    issues.mkdir()
    # The one no host fits comes first in the dispatch order (P0).
    (issues / "005.md").write_text('---\ntitle: Issue 5\nlabels: ["P0", "needs:windows"]\n---\nno host has it\n')
    wanted = {1: "needs:gpu", 2: "host:mini-1", 3: "needs:macos", 4: "needs:gpu"}
    for number, label in wanted.items():
        (issues / f"{number:03d}.md").write_text(f'---\ntitle: Issue {number}\nlabels: ["{label}"]\n---\nbody of {number}\n')
    engine = Engine(
        store=open_store(tmp_path / "state" / "state.db"), sources=[(LocalIssueSource(issues), 0.2)], agent=agent,
        pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=4),
        policy=SessionPolicy(stall_timeout_s=60.0, timeout_s=120.0, grace_s=1.0, max_attempts=1, retry_backoff_s=0.0),
        steps=make_steps(["commits"]),
    )
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while sum(1 for task in engine.snapshot.tasks.values() if task.state is TaskState.SUCCEEDED) < 4:
            assert asyncio.get_running_loop().time() < deadline, {key: task.state for key, task in engine.snapshot.tasks.items()}
            await asyncio.sleep(0.1)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    hosts = {task.issue.number: task.history[-1].host for task in engine.snapshot.tasks.values() if task.history}
    assert hosts == {1: "mini-2", 2: "mini-1", 3: "mini-1", 4: "mini-2"}
    assert engine.snapshot.tasks["local#5"].state is TaskState.QUEUED
    said = [e.message for e in engine.store.log.read() if isinstance(e, ev.Warned) and e.issue == "local#5"]
    assert said == [
        "#5 cannot run on any configured host: no host fits: mini-1 lacks windows; mini-2 lacks windows; "
        "a configuration error of this issue (change its host:/needs: labels or the configured hosts)"
    ], said


async def test_the_last_free_slot_goes_past_an_issue_no_host_can_take(tmp_path: Path, make_server) -> None:
    """One slot free, and first in the order an issue no host can take: the next issue gets the slot."""
    server = make_server("mini-1")
    script = tmp_path / "agent.py"
    script.write_text(AGENT.replace('float(os.environ.get("NAP", "0.3"))', 'float(open(os.environ["WATERSPIDER_ISSUE_BODY_FILE"]).read().split()[-1])'))
    agent = make_agent("command", {"argv": [sys.executable, str(script)]}, EnvPolicy())
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001.md").write_text("---\ntitle: Issue 1\n---\nnap 20\n")
    engine = Engine(
        store=open_store(tmp_path / "state" / "state.db"), sources=[(LocalIssueSource(issues), 0.2)], agent=agent,
        pool=ExecutorPool([SshExecutor([server.host("mini-1", slots=2, labels=["macos"])])]), scheduler=SchedulerConfig(capacity=2),
        policy=SessionPolicy(stall_timeout_s=60.0, timeout_s=120.0, grace_s=1.0, max_attempts=1, retry_backoff_s=0.0),
        steps=make_steps(["commits"]),
    )
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        while not ((task := engine.snapshot.tasks.get("local#1")) is not None and task.session is not None and task.session.pid):
            await asyncio.sleep(0.05)
        (issues / "005.md").write_text('---\ntitle: Issue 5\nlabels: ["P0", "needs:windows"]\n---\nnap 0.2\n')
        (issues / "002.md").write_text('---\ntitle: Issue 2\nlabels: ["P3"]\n---\nnap 0.2\n')
        while engine.snapshot.tasks.get("local#2") is None or engine.snapshot.tasks["local#2"].state is not TaskState.SUCCEEDED:
            assert engine.snapshot.tasks["local#1"].state is TaskState.RUNNING, "issue 2 waited for issue 1's slot"
            await asyncio.sleep(0.1)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    assert engine.snapshot.tasks["local#5"].state is TaskState.QUEUED
