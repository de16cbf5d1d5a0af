"""Hosts that cannot be reached: no session goes there, the run says so once (and again when one
answers), dispatch waits with the reason, and `hosts check` prints each host once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import HostStatus, TaskState
from waterspider_tui.core.state import Snapshot
from waterspider_tui.engine import Engine
from waterspider_tui.engine.preflight import HOSTS_DOWN
from waterspider_tui.text.event_text import describe

from remote_sessions import engine_on_hosts, until, write_issues
from sshd_server import SshServer

UNRESOLVABLE = "bogus-host-xyz.invalid"
"""The `.invalid` top-level domain never resolves (RFC 6761): the resolver answers without the network."""

AGENT = """
import subprocess
open("work.txt", "w").write("done\\n")
subprocess.run(["git", "add", "work.txt"], check=True)
subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work"], check=True)
"""


def _engine(tmp_path: Path, executor: SshExecutor, issues: Path) -> Engine:
    return engine_on_hosts(tmp_path, executor, AGENT, issues)


async def test_hosts_that_cannot_be_reached_get_no_session_and_dispatch_waits_until_one_answers(tmp_path: Path, make_server) -> None:
    server = make_server("mini-1")
    server.stop()  # its port is closed until the server starts again below
    executor = SshExecutor([server.host("mini-1", slots=2), server.host("bogus", address=UNRESOLVABLE, port=22)])
    issues = tmp_path / "issues"
    write_issues(issues, 2)
    engine = _engine(tmp_path, executor, issues)
    runner = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.snapshot.dispatcher_paused and engine.snapshot.paused_by == HOSTS_DOWN, "paused for the hosts")
        reason = engine.snapshot.pause_reason
        assert "mini-1" in reason and "nothing listens" in reason and "bogus" in reason and "cannot resolve" in reason, reason
        await asyncio.sleep(2 * 5.0)  # two more probe rounds: still down, nothing said twice, nothing started
        events = list(engine.store.log.read())
        assert not [e for e in events if isinstance(e, (ev.SessionStarted, ev.SessionFinished))], "no session on a host not known to answer"
        assert {task.state for task in engine.snapshot.tasks.values()} == {TaskState.QUEUED}
        assert all(not task.history for task in engine.snapshot.tasks.values()), "no attempt charged"
        down = [e.message for e in events if isinstance(e, ev.Warned) and "cannot be reached" in e.message]
        assert sorted(line.split(" ", 1)[0] for line in down) == ["bogus", "mini-1"], down
        assert len([e for e in events if isinstance(e, ev.DispatcherPaused)]) == 1

        server.start()
        await until(lambda: all(task.state is TaskState.SUCCEEDED for task in engine.snapshot.tasks.values()), "the issues ran once mini-1 answered")
    finally:
        await engine.stop(leave_running=False)
        await asyncio.wait_for(runner, 60)
    events = list(engine.store.log.read())
    assert {e.session.host for e in events if isinstance(e, ev.SessionStarted)} == {"mini-1"}
    assert [e.by for e in events if isinstance(e, ev.DispatcherResumed)] == ["mini-1 answers again"]
    back = [e for e in events if isinstance(e, ev.Warned) and "answers again" in e.message]
    assert [describe(e) for e in back] == ["mini-1 answers again: it takes new sessions"], "good news, no warning"
    assert not [line for line in engine.snapshot.warnings if "answers again" in line], "not listed as a problem"


async def test_a_host_the_store_saw_up_in_an_earlier_run_is_not_placeable_until_it_answers_in_this_one(make_server) -> None:
    server = make_server("mini-1")
    server.stop()
    pool = ExecutorPool([SshExecutor([server.host("mini-1")])])
    earlier = Snapshot(hosts={"mini-1": HostStatus(name="mini-1", slots_total=2, reachable=True)})
    assert pool.candidates(earlier)[0].checked is False and not pool.has_room(earlier)
    assert pool.down_reason(earlier) == "", "not heard from yet: it may still answer"
    try:
        [status] = await pool.probe()
    finally:
        await pool.close()
    assert not status.reachable
    now = Snapshot(hosts={"mini-1": status})
    assert not pool.has_room(now)
    assert pool.down_reason(now).startswith("no host can be reached: mini-1: nothing listens on 127.0.0.1:")


async def test_a_configured_host_not_probed_yet_can_be_drained(tmp_path: Path, make_server) -> None:
    server = make_server("mini-1")
    issues = tmp_path / "issues"
    write_issues(issues, 1)
    engine = _engine(tmp_path, SshExecutor([server.host("mini-1")]), issues)
    assert "mini-1" not in engine.snapshot.hosts
    assert await engine.submit(cmd.DrainHost(host="mini-1")) == "mini-1 drained: no new sessions there"
    assert "mini-1" in engine.snapshot.draining
    try:
        await engine.submit(cmd.DrainHost(host="mini-9"))
    except ValueError as error:
        assert str(error) == "no host mini-9"
    else:
        raise AssertionError("a host that is not configured cannot be drained")


def _check(tmp_path: Path, hosts_toml: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "waterspider.toml"
    config.write_text('[agent]\nkind = "simulated"\n' + hosts_toml)
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATERSPIDER_")}
    return subprocess.run(
        [sys.executable, "-m", "waterspider_tui", "hosts", "check", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )


def _host_toml(server: SshServer, name: str, **overrides: object) -> str:
    host = server.host(name, **overrides)
    values = {
        "name": name, "address": host.address, "port": host.port or 22, "user": host.user, "identity_file": host.identity_file,
        "use_agent": False, "known_hosts": host.known_hosts, "ssh_config": list(host.ssh_config), "repo_path": host.repo_path,
        "connect_timeout_s": 3.0,
    }
    lines = ["[[hosts]]"] + [f"{key} = {_toml(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_hosts_check_prints_each_host_once_on_stdout_and_fails_when_one_is_wrong(tmp_path: Path, make_server) -> None:
    server = make_server("mini-1")
    closed = make_server("mini-2")
    closed.stop()
    done = _check(tmp_path, _host_toml(server, "mini-1") + _host_toml(closed, "mini-2") + _host_toml(server, "bogus", address=UNRESOLVABLE))
    lines = done.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["mini-1", "mini-2", "bogus"], (done.stdout, done.stderr)
    assert lines[0].startswith("mini-1: ok ("), lines[0]
    assert "nothing listens" in lines[1] and "cannot resolve" in lines[2]
    assert done.stderr == "", "nothing twice, and no library warnings"
    assert done.returncode == 1


def test_importing_the_ssh_library_shows_none_of_its_cryptography_deprecation_warnings() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import waterspider_tui.adapters.executors.ssh_connection"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "CryptographyDeprecationWarning" not in done.stderr, done.stderr
