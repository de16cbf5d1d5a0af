"""Sessions kept honest by the engine: stalls, crashes, retries, cancel, timeouts, shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.engine.conftest import EngineFactory, write_issue, write_script
from tests.waiting import WAIT_S, until
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome, TaskState
from waterspider_tui.engine import EngineLocked

FLAKY = """
import os, sys
attempt = int(os.environ["WATERSPIDER_ISSUE_ATTEMPT"])
print(f"attempt {attempt}", flush=True)
sys.exit(1 if attempt == 1 else 0)
"""

HANGS = """
import time
print("thinking", flush=True)
time.sleep(120)
"""

EXIT_CODE = """
import os, sys
print("working", flush=True)
sys.exit(int(os.environ["WATERSPIDER_ISSUE_TITLE"].split()[-1]))
"""


def _finished(engine, key: str) -> list[ev.SessionFinished]:
    return [e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished) and e.issue == key]


async def _run(engine, timeout: float = 60.0) -> None:
    await asyncio.wait_for(engine.run(until_idle=True), max(timeout, WAIT_S))


async def test_a_crash_is_retried_and_then_succeeds(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "flaky.py", FLAKY))
    await _run(engine)
    results = [event.result for event in _finished(engine, "local#1")]
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.SUCCEEDED]
    assert results[0].error_class is ErrorClass.CRASHED
    task = engine.snapshot.tasks["local#1"]
    assert task.state is TaskState.SUCCEEDED and task.attempts == 2
    assert "attempt 2" in [entry.text for entry in engine.session_log("local#1")][-1]


async def test_a_stalled_agent_is_stopped_and_retried_until_attempts_run_out(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "hangs.py", HANGS), stall_timeout_s=1.0, grace_s=0.5)
    await _run(engine)
    results = [event.result for event in _finished(engine, "local#1")]
    assert [r.error_class for r in results] == [ErrorClass.STALLED, ErrorClass.STALLED]
    assert engine.snapshot.tasks["local#1"].state is TaskState.FAILED


async def test_wall_clock_limit_stops_a_session_that_keeps_talking(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    chatty = "import time\nwhile True:\n    print('still going', flush=True)\n    time.sleep(0.1)\n"
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "chatty.py", chatty), timeout_s=1.0, grace_s=0.5)
    await _run(engine)
    [finished] = _finished(engine, "local#1")
    assert finished.result.error_class is ErrorClass.TIMEOUT


@pytest.mark.parametrize(("code", "expected_attempts", "error_class"), [(2, 1, ErrorClass.AGENT_EXIT), (75, 2, ErrorClass.AGENT_RETRY_LATER)])
async def test_exit_code_contract_decides_retries(tmp_path: Path, issues: Path, make_engine: EngineFactory, code: int, expected_attempts: int, error_class: ErrorClass | None) -> None:
    write_issue(issues, 1, title=f"exit with {code}")
    engine = make_engine(write_script(tmp_path, "exit.py", EXIT_CODE))
    await _run(engine)
    results = [event.result for event in _finished(engine, "local#1")]
    assert len(results) == expected_attempts
    assert all(r.outcome is Outcome.FAILED for r in results)
    if error_class is not None:
        assert results[0].error_class is error_class


async def test_cancel_stops_a_running_session_and_requeue_runs_it_again(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    script = write_script(tmp_path, "slow.py", "import time, os\nprint('go', flush=True)\ntime.sleep(0.5 if os.environ['WATERSPIDER_ISSUE_ATTEMPT'] == '2' else 60)\n")
    engine = make_engine(script, grace_s=0.5)
    runner = asyncio.create_task(engine.run())
    try:
        await _until(lambda: engine.snapshot.tasks.get("local#1") is not None and engine.snapshot.tasks["local#1"].state is TaskState.RUNNING and engine.snapshot.tasks["local#1"].session.pid)
        with pytest.raises(ValueError, match="only failed or cancelled"):
            await engine.submit(cmd.Requeue(issue="local#1"))
        assert "cancelling #1" == await engine.submit(cmd.Cancel(issue="#1"))
        await _until(lambda: engine.snapshot.tasks["local#1"].state is TaskState.CANCELLED)
        assert engine.snapshot.tasks["local#1"].result.error == "cancelled by operator"
        await engine.submit(cmd.Requeue(issue="local#1"))
        await _until(lambda: engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)


async def test_a_second_orchestrator_on_the_same_store_is_refused(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    script = write_script(tmp_path, "slow.py", "import time\ntime.sleep(2)\n")
    first = make_engine(script)
    runner = asyncio.create_task(first.run())
    try:
        await _until(lambda: first.locks.held)
        second = make_engine(script)
        with pytest.raises(EngineLocked):
            await second.run()
    finally:
        await first.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)


async def test_a_second_orchestrator_with_another_store_on_the_same_repository_is_refused(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    script = write_script(tmp_path, "slow.py", "import time\ntime.sleep(2)\n")
    first = make_engine(script)
    runner = asyncio.create_task(first.run())
    try:
        # Its session runs before the second starts: stopped, it is the one finished session below.
        await _until(lambda: first.locks.held and bool(first.snapshot.running()))
        second = make_engine(script, store=tmp_path / "elsewhere" / "state.db")
        with pytest.raises(EngineLocked, match="repository"):
            await second.run()
        assert not second.locks.held
    finally:
        await first.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)
    assert len(_finished(first, "local#1")) == 1


async def test_stopping_the_orchestrator_requeues_what_it_stopped(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "hangs.py", HANGS), grace_s=0.5)
    runner = asyncio.create_task(engine.run())
    await _until(lambda: engine.snapshot.tasks.get("local#1") is not None and engine.snapshot.tasks["local#1"].session is not None and engine.snapshot.tasks["local#1"].session.pid)
    await asyncio.wait_for(engine.stop(leave_running=False), 30)
    task = engine.snapshot.tasks["local#1"]  # stop() returns once the state says what happened
    await asyncio.wait_for(runner, 30)
    assert task.state is TaskState.QUEUED, "a stopped session's issue must go back to the queue"
    assert task.history[-1].outcome is Outcome.CANCELLED


async def test_daily_budget_pauses_dispatch(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    for number in (1, 2, 3):
        write_issue(issues, number)
    engine = make_engine(None, simulated={"duration_s": 0.3}, capacity=1, daily_budget_usd=0.01)
    await _run(engine)
    snapshot = engine.snapshot
    assert snapshot.dispatcher_paused and "daily budget" in snapshot.pause_reason
    assert sum(1 for t in snapshot.tasks.values() if t.state is TaskState.SUCCEEDED) == 1
    assert sum(snapshot.spend_by_day.values()) > 0.01


async def test_per_issue_budget_stops_a_session_as_budget(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(None, simulated={"duration_s": 3.0}, per_issue_budget_usd=0.01)
    await _run(engine)
    [finished] = _finished(engine, "local#1")
    assert finished.result.error_class is ErrorClass.BUDGET


_until = until


async def test_a_usage_limit_pauses_all_dispatch_until_the_reset(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    for number in (1, 2, 3):
        write_issue(issues, number)
    engine = make_engine(None, simulated={"duration_s": 0.3, "fail_rate": 1.0, "fail_mode": "usage_limit"}, capacity=1)
    runner = asyncio.create_task(engine.run())
    try:
        await _until(lambda: engine.snapshot.dispatcher_paused)
        snapshot = engine.snapshot
        assert snapshot.paused_until is not None and snapshot.paused_until > engine.clock.now() + 200
        assert "usage_limit" in snapshot.pause_reason
        failed = [t for t in snapshot.tasks.values() if t.history]
        assert len(failed) == 1, "one limit hit must not burn every issue's attempts"
        assert failed[0].state is TaskState.QUEUED and failed[0].not_before == snapshot.paused_until
        await asyncio.sleep(0.5)
        assert not engine.snapshot.running(), "nothing starts while paused for the reset"
        assert not engine.is_idle(), "a run waiting for a reset is not finished"
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)


async def test_operator_commands_through_the_real_engine(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    write_issue(issues, 2)
    engine = make_engine(write_script(tmp_path, "hangs.py", HANGS), grace_s=0.5, capacity=1)
    assert await engine.submit(cmd.PauseDispatcher()) == "dispatch paused: running sessions go on, no new ones start"
    runner = asyncio.create_task(engine.run())
    try:
        await _until(lambda: len(engine.snapshot.tasks) == 2)
        assert await engine.submit(cmd.Pin(issue="#2")) == "#2 pinned to the top"
        assert await engine.submit(cmd.Bump(issue="#1", delta=-1)) == "#1 priority lowered (bump -1)"
        assert await engine.submit(cmd.PauseIssue(issue="#1")) == "#1 paused"
        assert engine.snapshot.running() == [], "nothing starts while dispatch is paused"
        assert await engine.submit(cmd.ResumeDispatcher()) == "dispatch resumed"
        await _until(lambda: engine.snapshot.tasks["local#2"].state is TaskState.RUNNING)
        assert engine.snapshot.tasks["local#1"].state is TaskState.QUEUED, "the paused issue waits"
        assert await engine.submit(cmd.PauseIssue(issue="#2")) == "#2 paused (its running session goes on)"
        assert await engine.submit(cmd.ResumeIssue(issue="#1")) == "#1 resumed"
        with pytest.raises(ValueError, match="#1 is queued: only a running session can be cancelled"):
            await engine.submit(cmd.Cancel(issue="#1"))
        assert await engine.submit(cmd.Cancel(issue="#2")) == "cancelling #2"
        await _until(lambda: engine.snapshot.tasks["local#2"].state is TaskState.CANCELLED)
        assert await engine.submit(cmd.Requeue(issue="#2")) == "#2 requeued"
        kinds = [type(e) for e in engine.store.log.read() if isinstance(e, ev.OPERATOR_EVENTS)]
        assert kinds == [ev.DispatcherPaused, ev.IssuePinned, ev.PriorityBumped, ev.IssuePaused, ev.DispatcherResumed, ev.IssuePaused, ev.IssueResumed, ev.CancelRequested, ev.IssueRequeued]
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)


async def test_closing_a_local_issue_stops_its_session_and_it_is_never_requeued(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "hangs.py", HANGS), grace_s=0.5, on_issue_gone="stop")
    runner = asyncio.create_task(engine.run())
    try:
        await _until(lambda: (t := engine.snapshot.tasks.get("local#1")) is not None and t.session is not None and t.session.pid is not None)
        write_issue(issues, 1, state="closed")
        await _until(lambda: engine.snapshot.tasks["local#1"].state is TaskState.GONE)
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)
    assert [e.result.outcome for e in _finished(engine, "local#1")] == [Outcome.CANCELLED]
    assert not [e for e in engine.store.log.read() if isinstance(e, ev.RetryScheduled)]


async def test_a_closed_issue_stopped_at_shutdown_is_not_requeued(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "hangs.py", HANGS), grace_s=0.5)  # on_issue_gone = finish
    runner = asyncio.create_task(engine.run())
    await _until(lambda: (t := engine.snapshot.tasks.get("local#1")) is not None and t.session is not None and t.session.pid is not None)
    write_issue(issues, 1, state="closed")
    await _until(lambda: engine.snapshot.tasks["local#1"].issue.closed)
    assert engine.snapshot.tasks["local#1"].state is TaskState.RUNNING, "`finish` lets the session go on"
    await asyncio.wait_for(engine.stop(leave_running=False), 30)
    await asyncio.wait_for(runner, 30)
    assert engine.snapshot.tasks["local#1"].state is TaskState.GONE
    assert not [e for e in engine.store.log.read() if isinstance(e, ev.RetryScheduled)]


async def test_a_start_refused_by_the_source_holds_the_issue(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(write_script(tmp_path, "hangs.py", HANGS))
    source = engine.sources[0][0]

    async def relabeled(issue):  # type: ignore[no-untyped-def]
        return "trigger label applied by @outsider, who has no write access"

    source.confirm = relabeled  # type: ignore[attr-defined]
    runner = asyncio.create_task(engine.run())
    try:
        await _until(lambda: (t := engine.snapshot.tasks.get("local#1")) is not None and "@outsider" in t.held_reason)
        await asyncio.sleep(0.5)
        assert engine.snapshot.tasks["local#1"].state is TaskState.QUEUED and engine.snapshot.tasks["local#1"].session is None
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 30)


async def test_a_host_wide_failure_pauses_dispatch_and_keeps_the_backlog_queued(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    for number in (1, 2, 3):
        write_issue(issues, number)
    engine = make_engine(write_script(tmp_path, "missing.py", "import sys\nprint('agent: command not found')\nsys.exit(127)\n"), capacity=1, max_attempts=1)
    await _run(engine)
    finished = [e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished)]
    assert len(finished) == 1 and finished[0].host_wide and finished[0].result.error_class is ErrorClass.AGENT_NOT_FOUND
    pauses = [e for e in engine.store.log.read() if isinstance(e, ev.DispatcherPaused)]
    assert len(pauses) == 1 and pauses[0].by == "host failure" and "agent_not_found" in pauses[0].reason
    states = {key: task.state for key, task in engine.snapshot.tasks.items()}
    assert set(states.values()) == {TaskState.QUEUED}, "nothing is charged to the issues"
    # The next start checks the hosts again; once the agent is there, the failed issue gets its
    # attempt although max_attempts is 1: the host's failure was not charged to it.
    fixed = make_engine(write_script(tmp_path, "fine.py", "print('ok')\n"), capacity=1, max_attempts=1)
    await _run(fixed)
    assert {task.state for task in fixed.snapshot.tasks.values()} == {TaskState.SUCCEEDED}
    assert any(isinstance(e, ev.DispatcherResumed) and e.by == "host check passed" for e in fixed.store.log.read())


async def test_a_host_check_that_fails_at_start_pauses_before_any_session(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = make_engine(None, agent_argv=[str(tmp_path / "no-such-agent")])
    await _run(engine)
    assert not [e for e in engine.store.log.read() if isinstance(e, ev.SessionStarted)]
    assert engine.snapshot.dispatcher_paused and engine.snapshot.paused_by == "host check"
    assert "no-such-agent" in engine.snapshot.pause_reason
