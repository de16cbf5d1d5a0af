"""`run --no-ui --until-idle` and hosts: an issue no configured host could ever take is a configuration
error said once, and the run still ends (exit 1, the summary naming it); hosts only briefly down are
waited for as long as their down→lost window (`lost_after_s`), and the run says so. Real sshd servers."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.engine import Engine, loops
from waterspider_tui.engine.preflight import HOSTS_DOWN
from waterspider_tui.exit_codes import EXIT_DONE, EXIT_NOT_DONE
from waterspider_tui.headless import run_headless

from remote_sessions import engine_on_hosts, until, write_issues
from sshd_server import SshServer

AGENT = """
import subprocess
open("work.txt", "w").write("done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
"""


def _engine(tmp_path: Path, server: SshServer, lost_after_s: float = 60.0) -> Engine:
    host = server.host("mini-1", slots=2, lost_after_s=lost_after_s, orphan_stop_after_s=lost_after_s / 2)
    return engine_on_hosts(tmp_path, SshExecutor([host], poll_s=0.3), AGENT, write_issues(tmp_path / "issues", 1))


async def test_an_issue_pinned_to_a_host_not_configured_is_said_once_and_the_run_ends(tmp_path: Path, make_server) -> None:
    engine = _engine(tmp_path, make_server("mini-1"))
    (tmp_path / "issues" / "002.md").write_text("---\ntitle: Pinned away\nlabels: [host:mini-9]\n---\nbody\n")
    (tmp_path / "issues" / "003.md").write_text("---\ntitle: Needs windows\nlabels: [needs:windows]\n---\nbody\n")
    out = io.StringIO()
    code = await asyncio.wait_for(run_headless(engine, until_idle=True, out=out), 60)
    text = out.getvalue()
    assert code == EXIT_NOT_DONE, text
    assert engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED
    said = [line for line in text.splitlines() if "cannot run on any configured host" in line]
    assert len(said) == 2, text
    assert any("#2 cannot run on any configured host: pinned to mini-9, which is not a configured host" in line for line in said), said
    assert any("#3 cannot run on any configured host: no host fits: mini-1 lacks windows" in line for line in said), said
    assert "  #2 not run: pinned to mini-9, which is not a configured host (a configuration error of this issue)" in text.splitlines(), text


async def test_hosts_only_briefly_down_are_waited_for_and_the_run_ends_done(tmp_path: Path, make_server, monkeypatch) -> None:
    monkeypatch.setattr(loops, "HOST_PROBE_INTERVAL_S", 0.3)  # the host seen back soon
    server = make_server("mini-1")
    server.stop()
    engine = _engine(tmp_path, server, lost_after_s=60.0)
    out = io.StringIO()
    run = asyncio.create_task(run_headless(engine, until_idle=True, out=out))
    await until(lambda: engine.snapshot.paused_by == HOSTS_DOWN, "dispatch paused for the host")
    await asyncio.sleep(0.5)
    assert not run.done(), out.getvalue()
    server.start()
    code = await asyncio.wait_for(run, 60)
    text = out.getvalue()
    assert code == EXIT_DONE, text
    assert "every host is down: the run waits up to 60s (lost_after_s) for one to answer before it ends" in text
    assert "warning: every host is down" not in text


async def test_hosts_down_past_their_lost_window_end_the_run_not_done_and_say_why(tmp_path: Path, make_server) -> None:
    server = make_server("mini-1")
    server.stop()
    engine = _engine(tmp_path, server, lost_after_s=1.0)
    out = io.StringIO()
    code = await asyncio.wait_for(run_headless(engine, until_idle=True, out=out), 60)
    text = out.getvalue()
    assert code == EXIT_NOT_DONE, text
    assert "no host answered within 1s (lost_after_s): the run ends with work not done" in text
    assert any(line.startswith("  #1 not run: no host can be reached: mini-1: nothing listens") for line in text.splitlines()), text


async def test_an_issue_pinned_to_a_down_host_says_it_waits_while_no_other_host_has_room(tmp_path: Path, make_server) -> None:
    down, drained = make_server("mini-1"), make_server("mini-2")
    down.stop()
    hosts = [down.host("mini-1", slots=1), drained.host("mini-2", slots=1)]
    (tmp_path / "issues").mkdir()
    (tmp_path / "issues" / "001.md").write_text("---\ntitle: Pinned\nlabels: [host:mini-1]\n---\nbody\n")
    engine = engine_on_hosts(tmp_path, SshExecutor(hosts, poll_s=0.3), AGENT, tmp_path / "issues")
    runner = asyncio.create_task(engine.run(until_idle=False))
    try:
        await engine.submit(cmd.PauseDispatcher())
        await until(lambda: {"mini-1", "mini-2"} <= set(engine.snapshot.hosts), "both hosts probed")
        await engine.submit(cmd.DrainHost(host="mini-2"))
        await engine.submit(cmd.ResumeDispatcher())
        await until(lambda: _waits(engine), "a line saying why #1 waits")
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    assert _waits(engine) == ["waits for a host: no host fits: mini-1 unreachable"]


def _waits(engine: Engine) -> list[str]:
    return [e.message.split(" ", 1)[1] for e in engine.store.log.read() if isinstance(e, ev.Warned) and e.issue == "local#1" and "waits for a host" in e.message]
