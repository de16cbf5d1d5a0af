"""The engine through the executor seam: restart and reattach, steps after the agent, lost starts.

Each test runs on this machine's executor and on one standing for another host (a second
clone, its own sessions folder), see `executor_kind` in conftest.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.engine.conftest import EngineFactory, write_issue, write_script
from tests.waiting import until
from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Issue, Outcome, SessionInfo, TaskState

COMMITS = """
import os, subprocess, sys, time
ledger = os.environ["LEDGER"]
with open(ledger, "a") as out:
    out.write(os.environ["WATERSPIDER_ISSUE_NUMBER"] + "\\n")
print("starting", flush=True)
time.sleep(float(os.environ.get("NAP", "0")))
with open("work.txt", "a") as out:
    out.write("done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
print("committed", flush=True)
"""


def _finished(engine, key: str) -> list[ev.SessionFinished]:
    return [e for e in engine.store.log.read() if isinstance(e, ev.SessionFinished) and e.issue == key]


_until = until


def _command_engine(make_engine: EngineFactory, tmp_path: Path, nap: float = 0.0, **settings: object):
    script = write_script(tmp_path, "commits.py", COMMITS)
    return make_engine(script, agent_env={"LEDGER": str(tmp_path / "ledger.txt"), "NAP": str(nap)}, **settings)


async def test_a_session_left_running_is_reattached_and_collected_once(tmp_path: Path, issues: Path, make_engine: EngineFactory, executor_kind: str) -> None:
    write_issue(issues, 1)
    first = _command_engine(make_engine, tmp_path, nap=1.5)
    runner = asyncio.create_task(first.run())
    await _until(lambda: (t := first.snapshot.tasks.get("local#1")) is not None and t.session is not None and t.session.pid is not None)
    await first.stop(leave_running=True)
    await asyncio.wait_for(runner, 30)
    assert first.snapshot.tasks["local#1"].state is TaskState.RUNNING, "left running, not finished"

    second = _command_engine(make_engine, tmp_path)
    await asyncio.wait_for(second.run(until_idle=True), 60)
    finished = _finished(second, "local#1")
    assert [event.result.outcome for event in finished] == [Outcome.SUCCEEDED]
    assert finished[0].result.commits == 1
    assert (tmp_path / "ledger.txt").read_text().split() == ["1"], "the agent ran once"
    assert any(entry.text == "committed" for entry in second.session_log("local#1")), "output read through the executor"
    session = second.snapshot.tasks["local#1"].session
    assert session is not None and session.executor == ("local" if executor_kind == "local" else "mini-1")


class _Hangs:
    """A step that never ends, to stop the orchestrator between the agent and the session's end."""

    name = "commits"

    def applies(self, result: object) -> bool:
        return True

    async def run(self, context: StepContext) -> StepOutcome:
        await asyncio.sleep(3600)
        return StepOutcome(ok=True)


async def test_a_restart_between_the_agent_and_its_steps_finishes_the_steps_without_rerunning_the_agent(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    first = _command_engine(make_engine, tmp_path)
    first.sessions.steps = [_Hangs()]
    runner = asyncio.create_task(first.run())
    await _until(lambda: any(isinstance(e, ev.StepStarted) for e in first.snapshot.recent))
    await first.stop(leave_running=True)
    await asyncio.wait_for(runner, 30)
    task = first.snapshot.tasks["local#1"]
    assert task.state is TaskState.RUNNING and task.session is not None and task.session.agent_ended is not None

    second = _command_engine(make_engine, tmp_path)
    await asyncio.wait_for(second.run(until_idle=True), 60)
    finished = _finished(second, "local#1")
    assert len(finished) == 1 and finished[0].result.outcome is Outcome.SUCCEEDED and finished[0].result.commits == 1
    assert (tmp_path / "ledger.txt").read_text().split() == ["1"], "the agent is not run again for its steps"
    steps = [e for e in second.store.log.read() if isinstance(e, ev.StepStarted)]
    assert [s.step for s in steps] == ["commits", "commits"], "the unfinished step is repeated"


async def test_an_attempt_lost_before_its_agent_started_does_not_use_up_attempts(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    engine = _command_engine(make_engine, tmp_path, max_attempts=1)
    engine.store.record([ev.IssueSeen(ts=1.0, issue_data=Issue(repo="local", number=1, title="Issue 1"))])
    for attempt in (1, 2, 3):  # three orchestrators killed between recording a session and starting its agent
        engine.store.record([ev.SessionStarted(ts=float(attempt), issue="local#1", session=SessionInfo(
            session_id=f"1-{attempt}-lost", issue="local#1", attempt=attempt, executor="local", host="local",
            worktree=str(tmp_path / "nowhere"), branch="feature/issue-1",
            log_path=str(tmp_path / f"gone-{attempt}" / "stdout.jsonl"), started_at=float(attempt),
        ))])
        await asyncio.wait_for(engine.sessions.reconcile(), 10)
    await asyncio.wait_for(engine.run(until_idle=True), 60)
    finished = _finished(engine, "local#1")
    assert [e.result.error_class for e in finished[:3]] == [ErrorClass.LOST] * 3
    assert finished[-1].result.outcome is Outcome.SUCCEEDED, "the agent got its one attempt"
    assert engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED


async def test_the_log_of_an_ended_session_is_read_after_a_restart(tmp_path: Path, issues: Path, make_engine: EngineFactory) -> None:
    write_issue(issues, 1)
    first = _command_engine(make_engine, tmp_path)
    await asyncio.wait_for(first.run(until_idle=True), 60)
    second = _command_engine(make_engine, tmp_path)
    assert second.session_log("local#1") == [], "nothing live in a new orchestrator"
    entries = await second.load_session_log("local#1")
    assert [entry.text for entry in entries] == ["starting", "committed"]
    assert await second.load_session_log("local#1", attempt=7) == []
    assert await second.load_session_log("local#9") == []
