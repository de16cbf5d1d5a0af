"""A failed gate sends the work back to the agent where its session and commits are: the next round
runs on the same host, resuming the agent's session there, even when another host has become the
first choice; a host gone for good makes the round start afresh elsewhere and say so, claiming no
resume. Real sshd servers, a real engine, the simulated agent (Claude's stream, a commit)."""

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
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, loops, open_store
from waterspider_tui.text.event_text import describe

from remote_sessions import until, write_issues
from sshd_server import SshServer


GATE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.05)\nraise SystemExit(1)"
"""A gate that fails once the test lets it (a file of the test's), so the test decides what happens before round 2."""


def _engine(tmp_path: Path, hosts: list) -> Engine:
    agent = make_agent("simulated", {"duration_s": 0.3, "steps": 2}, EnvPolicy())
    gate = {"commands": [{"name": "tests", "run": [sys.executable, "-c", GATE, str(tmp_path / "gate-go")]}], "max_rounds": 1, "require_commit": False}
    return Engine(
        store=open_store(tmp_path / "state" / "state.db"), sources=[(LocalIssueSource(write_issues(tmp_path / "issues", 1)), 0.2)],
        agent=agent, pool=ExecutorPool([SshExecutor(hosts, poll_s=0.3)]), scheduler=SchedulerConfig(capacity=2),
        policy=SessionPolicy(stall_timeout_s=60.0, timeout_s=120.0, grace_s=1.0, max_attempts=2, retry_backoff_s=0.0),
        steps=make_steps(["commits", "gate"], {"gate": gate}),
    )


def _started(engine: Engine) -> list[ev.SessionStarted]:
    return [e for e in engine.store.log.read() if isinstance(e, ev.SessionStarted)]


async def _first_round_on_mini_2(engine: Engine) -> None:
    """Round 1 on mini-2 (mini-1 drained), mini-1 back before the gate sends it back: by name mini-1 is the first choice."""
    await engine.submit(cmd.PauseDispatcher())
    await until(lambda: {"mini-1", "mini-2"} <= set(engine.snapshot.hosts), "both hosts probed")
    await engine.submit(cmd.DrainHost(host="mini-1"))
    await engine.submit(cmd.ResumeDispatcher())
    await until(lambda: _started(engine), "round 1")
    await engine.submit(cmd.RestoreHost(host="mini-1"))


async def test_the_gates_next_round_resumes_on_the_host_where_the_session_and_its_commits_are(tmp_path: Path, make_server) -> None:
    one, two = make_server("mini-1"), make_server("mini-2")
    engine = _engine(tmp_path, [one.host("mini-1", slots=1), two.host("mini-2", slots=1)])
    (tmp_path / "gate-go").touch()
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        await _first_round_on_mini_2(engine)
        await until(lambda: len(_started(engine)) == 2, "round 2")
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    first, second = (e.session for e in _started(engine))
    assert (first.host, second.host) == ("mini-2", "mini-2")
    events = list(engine.store.log.read())
    first_agent_session = next(e.agent_session_id for e in events if isinstance(e, ev.SessionSpawned) and e.session_id == first.session_id)
    assert first_agent_session and second.agent_session_id == first_agent_session, "resumes the agent's session there"
    round_one = next(e for e in events if isinstance(e, ev.SessionFinished) and e.session_id == first.session_id)
    line = describe(round_one)
    assert line is not None and "gate failed" in line and "sent back to the agent" in line and "failed (gate_failed)" not in line, line
    retries = [e for e in events if isinstance(e, ev.RetryScheduled) and e.error_class == "gate_failed"]
    assert retries and all(describe(e) is None for e in retries), "no 'will retry' line for a round sent back"


async def test_a_round_whose_host_is_gone_for_good_starts_afresh_elsewhere_and_says_so(tmp_path: Path, make_server, monkeypatch) -> None:
    monkeypatch.setattr(loops, "HOST_PROBE_INTERVAL_S", 0.3)  # mini-2 seen gone soon
    one, two = make_server("mini-1"), make_server("mini-2")
    hosts = [one.host("mini-1", slots=1, lost_after_s=1.5, orphan_stop_after_s=1.0), two.host("mini-2", slots=1, lost_after_s=1.5, orphan_stop_after_s=1.0)]
    engine = _engine(tmp_path, hosts)
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        await _first_round_on_mini_2(engine)
        await engine.submit(cmd.PauseDispatcher())  # round 2 waits until mini-2 is gone past its lost window
        (tmp_path / "gate-go").touch()
        await until(lambda: engine.snapshot.tasks["local#1"].resume_agent_session, f"round 1 sent back: {engine.snapshot.tasks['local#1']}")
        two.stop()
        await until(lambda: not engine.snapshot.hosts["mini-2"].reachable, "mini-2 seen down")
        await asyncio.sleep(1.6)
        await engine.submit(cmd.ResumeDispatcher())
        await until(lambda: len(_started(engine)) == 2, "round 2")
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    first, second = (e.session for e in _started(engine))
    assert (first.host, second.host) == ("mini-2", "mini-1")
    assert second.agent_session_id == "", "claims no resume of a session it cannot reach"
    said = [e.message for e in engine.store.log.read() if isinstance(e, ev.Warned) and "starts afresh" in e.message]
    assert said == ["#1 starts afresh on mini-1, not resuming its agent's session: its agent session and commits are on mini-2, out of reach for over 1.5s"], said
