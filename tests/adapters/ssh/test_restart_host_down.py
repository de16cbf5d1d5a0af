"""An orchestrator restarted while the host of a running session is down: the session is unknown, not
crashed. The issue waits for that host (up to `lost_after_s`, as a running orchestrator would) and is
never started elsewhere meanwhile; when the host answers, the session it kept running is the one that
counts, its work and cost included. Real sshd servers, real engines one after the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, TaskState
from waterspider_tui.engine import Engine

from remote_sessions import branch_log, engine_on_hosts, until, write_issues
from sshd_server import SshServer

AGENT = """
import json, os, subprocess, time
print("working", flush=True)
while not os.path.exists(os.environ["RELEASE"]):
    time.sleep(0.1)
open("work.txt", "a").write("done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
print("committed", flush=True)
"""


def _engine(tmp_path: Path, down: SshServer, spare: SshServer) -> Engine:
    env = {"RELEASE": str(tmp_path / "release")}
    hosts = [
        down.host("mini-1", slots=1, env=env, lost_after_s=60.0, orphan_stop_after_s=30.0),
        spare.host("mini-2", slots=1, env=env, lost_after_s=60.0, orphan_stop_after_s=30.0),
    ]
    return engine_on_hosts(tmp_path, SshExecutor(hosts, poll_s=0.3), AGENT, write_issues(tmp_path / "issues", 1), capacity=2, retry_backoff_s=0.0)


async def test_a_restart_while_the_sessions_host_is_down_waits_for_it_and_counts_that_session(tmp_path: Path, make_server) -> None:
    down, spare = make_server("mini-1"), make_server("mini-2")
    first = _engine(tmp_path, down, spare)
    runner = asyncio.create_task(first.run(until_idle=False))
    try:
        await first.submit(cmd.PauseDispatcher())
        await until(lambda: "mini-2" in first.snapshot.hosts, "mini-2 probed")
        await first.submit(cmd.DrainHost(host="mini-2"))
        await first.submit(cmd.ResumeDispatcher())
        await until(lambda: (task := first.snapshot.tasks.get("local#1")) is not None and task.session is not None and task.session.pid, "the session on mini-1")
        await first.submit(cmd.RestoreHost(host="mini-2"))
    finally:
        await first.stop(leave_running=True)  # as good as a kill -9 for the log: the session stays recorded as running
        await asyncio.wait_for(runner, 60)
    session = first.snapshot.tasks["local#1"].session
    assert session is not None and session.host == "mini-1"

    down.stop()  # the host is out of reach; the agent runs on there
    second = _engine(tmp_path, down, spare)
    runner = asyncio.create_task(second.run(until_idle=False))
    try:
        await until(lambda: "mini-1" in second.snapshot.hosts and not second.snapshot.hosts["mini-1"].reachable, "mini-1 seen down")
        await asyncio.sleep(1.0)  # a retry would start on the idle mini-2 within this
        task = second.snapshot.tasks["local#1"]
        assert task.state is TaskState.RUNNING and task.session is not None and task.session.session_id == session.session_id
        assert not [e for e in second.store.log.read() if isinstance(e, ev.SessionFinished)], "not taken for crashed"
        said = [e.message for e in second.store.log.read() if isinstance(e, ev.Warned) and e.issue == "local#1"]
        assert len(said) == 1 and said[0].startswith(f"#1 waits for mini-1: session {session.session_id} was running there"), said
        down.start()
        (tmp_path / "release").write_text("")
        await until(lambda: second.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED, "the issue to succeed with its first session")
    finally:
        await second.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    events = list(second.store.log.read())
    assert [e.session.session_id for e in events if isinstance(e, ev.SessionStarted)] == [session.session_id], "it ran once, on mini-1"
    [finished] = [e for e in events if isinstance(e, ev.SessionFinished)]
    assert finished.session_id == session.session_id and finished.result.outcome is Outcome.SUCCEEDED and finished.result.commits == 1
    assert branch_log(down.home / "src" / "repo", "feature/issue-1") == ["work"]
    assert branch_log(spare.home / "src" / "repo", "feature/issue-1") == []
