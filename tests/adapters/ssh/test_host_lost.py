"""A host gone for good: its session is placed again elsewhere, and when the host returns exactly one
session of the issue counts, the orphan is stopped (by its own watchdog, or by the engine when the
host was frozen), and the event log says which and why. Real sshd servers, a real engine."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome, TaskState
from waterspider_tui.engine import Engine

from remote_sessions import branch_log, engine_on_hosts, living_members, until, write_issues
from sshd_server import SshServer

AGENT = """
import os, subprocess, sys, time
print("working on", os.environ["WATERSPIDER_ISSUE_NUMBER"], flush=True)
deadline = time.time() + float(os.environ["NAP"])
while time.time() < deadline:
    time.sleep(0.2)
    print("still working", flush=True)
with open("work.txt", "a") as out:
    out.write("done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
print("committed", flush=True)
"""
LOST_AFTER_S = 8.0
"""Longer than the engine's longest wait between probes (5 s + 20 % jitter), so the lost host shows
unreachable before its issue is placed again."""
ORPHAN_STOP_AFTER_S = 2.0


def _engine(tmp_path: Path, lost: SshServer, spare: SshServer) -> Engine:
    hosts = [
        # The session on mini-1 would run a minute; on mini-2 it ends at once, so the work that counts is plain to see.
        lost.host("mini-1", slots=1, env={"NAP": "60"}, lost_after_s=LOST_AFTER_S, orphan_stop_after_s=ORPHAN_STOP_AFTER_S),
        spare.host("mini-2", slots=1, env={"NAP": "0.3"}, lost_after_s=LOST_AFTER_S, orphan_stop_after_s=ORPHAN_STOP_AFTER_S),
    ]
    issues = write_issues(tmp_path / "issues", 1)
    return engine_on_hosts(tmp_path, SshExecutor(hosts, poll_s=0.3), AGENT, issues, capacity=2, retry_backoff_s=0.5)


async def _first_session_on_mini_1(engine: Engine) -> ev.SessionStarted:
    """Start the run with mini-2 drained, so the issue's first session goes to mini-1; then restore mini-2."""
    await engine.submit(cmd.PauseDispatcher())
    while "mini-2" not in engine.snapshot.hosts:
        await asyncio.sleep(0.05)
    await engine.submit(cmd.DrainHost(host="mini-2"))
    await engine.submit(cmd.ResumeDispatcher())
    await until(lambda: (task := engine.snapshot.tasks.get("local#1")) is not None and task.session is not None and task.session.pid, "the session on mini-1", 30)
    await engine.submit(cmd.RestoreHost(host="mini-2"))
    started = [e for e in engine.store.log.read() if isinstance(e, ev.SessionStarted)]
    assert [e.session.host for e in started] == ["mini-1"]
    return started[0]


def _orphan_warnings(engine: Engine) -> list[ev.Warned]:
    return [e for e in engine.store.log.read() if isinstance(e, ev.Warned) and e.issue == "local#1" and "is the one that counts" in e.message]


def _check_one_session_counted(engine: Engine, orphan_id: str, lost: SshServer, spare: SshServer) -> ev.SessionStarted:
    events = list(engine.store.log.read())
    started = [e for e in events if isinstance(e, ev.SessionStarted)]
    assert [e.session.host for e in started] == ["mini-1", "mini-2"], "placed again once, on the other host"
    finished = {e.session_id: e.result for e in events if isinstance(e, ev.SessionFinished)}
    assert finished[orphan_id].error_class is ErrorClass.HOST_DOWN
    given_up_at = next(e.ts for e in events if isinstance(e, ev.SessionFinished) and e.session_id == orphan_id)
    orphan_started = next(e.session.started_at for e in events if isinstance(e, ev.SessionStarted) and e.session.session_id == orphan_id)
    assert finished[orphan_id].duration_s >= LOST_AFTER_S and abs(finished[orphan_id].duration_s - (given_up_at - orphan_started)) < 1.0, "ran until given up on"
    survivor = started[1]
    assert finished[survivor.session.session_id].outcome is Outcome.SUCCEEDED and finished[survivor.session.session_id].commits == 1
    assert [e.session_id for e in events if isinstance(e, ev.AgentExited)] == [survivor.session.session_id], "only one agent's work counted"
    assert engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED
    assert branch_log(lost.home / "src" / "repo", "feature/issue-1") == [], "the orphan never got to commit"
    assert branch_log(spare.home / "src" / "repo", "feature/issue-1") == ["work"]
    return survivor


async def test_a_host_gone_for_good_has_its_session_placed_again_and_the_orphan_stops_itself_before(tmp_path: Path, make_server) -> None:
    lost, spare = make_server("mini-1"), make_server("mini-2")
    engine = _engine(tmp_path, lost, spare)
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        first = await _first_session_on_mini_1(engine)
        orphan_folder = lost.home / first.session.folder[2:]
        lost.stop()  # the host is gone: no connection, no probe, no lease touched
        await until(lambda: engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED, "the issue to succeed on mini-2", 90)
        assert (orphan_folder / "orphaned").exists(), "the orphan's watchdog stopped it"
        survivor = _check_one_session_counted(engine, first.session.session_id, lost, spare)
        assert (orphan_folder / "orphaned").stat().st_mtime < survivor.ts, "stopped before its issue started elsewhere: never two at once"
        assert not living_members(int((orphan_folder / "runner.pid").read_text())), "nothing of the orphan runs"
        lost.start()  # the host is back
        await until(lambda: _orphan_warnings(engine), "the event saying which session counts", 60)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    [warning] = _orphan_warnings(engine)
    assert warning.message.startswith(f"session {first.session.session_id} had ended on mini-1 while the host was out of reach: stopped: no word from the orchestrator")
    assert f"session {survivor.session.session_id} on mini-2 is the one that counts (its issue was placed again when mini-1 could not be reached; it ended succeeded)" in warning.message


async def test_a_frozen_host_returning_with_the_orphan_still_running_has_it_stopped_by_the_engine(tmp_path: Path, make_server) -> None:
    """A Mac asleep: sshd and the session (agent and watchdog alike) frozen, so nothing stopped the orphan."""
    lost, spare = make_server("mini-1"), make_server("mini-2")
    engine = _engine(tmp_path, lost, spare)
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        first = await _first_session_on_mini_1(engine)
        orphan_folder = lost.home / first.session.folder[2:]
        group = int((orphan_folder / "runner.pid").read_text())
        lost.stop()
        os.killpg(group, signal.SIGSTOP)
        await until(lambda: engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED, "the issue to succeed on mini-2", 90)
        assert living_members(group), "the frozen orphan is still there"
        lost.start()  # sshd answers again; the session stays frozen, as a Mac waking would not be quicker than its sshd
        await until(lambda: _orphan_warnings(engine), "the engine to settle the orphan", 60)
        assert not living_members(group), "the engine stopped the orphan"
    finally:
        try:
            os.killpg(group, signal.SIGCONT)
        except (ProcessLookupError, UnboundLocalError):
            pass
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    survivor = _check_one_session_counted(engine, first.session.session_id, lost, spare)
    [warning] = _orphan_warnings(engine)
    assert warning.message == (
        f"session {first.session.session_id} was still running on mini-1 when the host answered again: stopped it; "
        f"session {survivor.session.session_id} on mini-2 is the one that counts (its issue was placed again when mini-1 could not be reached; it ended succeeded)"
    )


async def test_an_orchestrator_restarted_before_the_host_returns_still_says_which_session_counts(tmp_path: Path, make_server) -> None:
    lost, spare = make_server("mini-1"), make_server("mini-2")
    first = _engine(tmp_path, lost, spare)
    runner = asyncio.create_task(first.run(until_idle=False))
    try:
        orphan = await _first_session_on_mini_1(first)
        lost.stop()
        await until(lambda: first.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED, "the issue to succeed on mini-2", 90)
    finally:
        await first.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    assert not _orphan_warnings(first), "mini-1 had not answered yet"

    lost.start()
    second = _engine(tmp_path, lost, spare)
    runner = asyncio.create_task(second.run(until_idle=False))
    try:
        await until(lambda: _orphan_warnings(second), "the restarted engine to settle the orphan", 60)
    finally:
        await second.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    [warning] = _orphan_warnings(second)
    assert warning.message.startswith(f"session {orphan.session.session_id} had ended on mini-1 while the host was out of reach: stopped: no word")
    third = _engine(tmp_path, lost, spare)
    runner = asyncio.create_task(third.run(until_idle=False))
    await asyncio.sleep(7)  # longer than a settle check: a settled orphan is not settled again
    await third.stop(leave_running=False)
    await asyncio.wait_for(runner, 60)
    assert len(_orphan_warnings(third)) == 1
