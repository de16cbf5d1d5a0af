"""Sessions outlive their SSH connection (a cut, an sshd restart, a new orchestrator), stop themselves when orphaned, and
are given up as lost only after their host has been gone for `lost_after_s`; several hosts at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh import SshExecutor

from remote_sessions import living_members, new_session, on_host, read_all, spec
from sshd_server import SshServer

GATED = 'echo started; while [ ! -f "$WS_GATE" ]; do sleep 0.05; done; echo finished; git commit -q --allow-empty -m "after the cut"'


async def until_output(executor: SshExecutor, session: object, expected: bytes) -> bytes:
    output = b""
    for _ in range(200):
        output = await read_all(executor, session)  # type: ignore[arg-type]
        if expected in output:
            return output
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {expected!r} in {output!r}")


async def test_a_connection_cut_mid_session_is_reconnected_and_the_output_resumes(server: SshServer, tmp_path: Path) -> None:
    executor = SshExecutor([server.host()], poll_s=0.1)
    session = new_session(executor, number=20)
    gate = tmp_path / "gate"
    try:
        workspace = await executor.prepare(session)
        agent = spec(workspace.path, GATED)
        agent.env["WS_GATE"] = str(gate)
        await executor.start(session, agent)
        waiter = asyncio.create_task(executor.wait(session))
        first = await until_output(executor, session, b"started\n")
        server.drop_connections()
        await asyncio.sleep(0.2)
        assert (await executor.state(session)).alive, "the agent runs on without the connection"
        gate.touch()
        status = await asyncio.wait_for(waiter, 10)
        assert status.returncode == 0
        assert await read_all(executor, session, offset=len(first)) == b"finished\n"
    finally:
        await executor.close()


async def test_after_an_sshd_restart_a_new_executor_reattaches_to_the_running_agent(server: SshServer, tmp_path: Path) -> None:
    first_executor = SshExecutor([server.host()])
    session = new_session(first_executor, number=21)
    gate = tmp_path / "gate"
    workspace = await first_executor.prepare(session)
    agent = spec(workspace.path, GATED)
    agent.env["WS_GATE"] = str(gate)
    pid = await first_executor.start(session, agent)
    await until_output(first_executor, session, b"started\n")
    server.restart()  # every connection cut, the listener gone and back
    await first_executor.close()
    executor = SshExecutor([server.host()], poll_s=0.1)
    try:
        state = await executor.state(session)
        assert state.alive and state.exit is None
        gate.touch()
        status = await asyncio.wait_for(executor.wait(session), 10)
        assert status.returncode == 0
        assert await read_all(executor, session) == b"started\nfinished\n"
        assert pid is not None and living_members(pid) == [], "one agent, and it is gone"
        log = await executor.git(session, "log", "-1", "--format=%s")
        assert log.stdout.strip() == "after the cut"
    finally:
        await executor.close()


async def test_a_session_nobody_watches_stops_itself_after_its_lease_runs_out(server: SshServer) -> None:
    executor = SshExecutor([server.host(orphan_stop_after_s=1.0)], poll_s=0.2)
    session = new_session(executor, number=22)
    try:
        workspace = await executor.prepare(session)
        pid = await executor.start(session, spec(workspace.path, "echo up; sleep 60"))
        waiting = asyncio.create_task(executor.wait(session))
        await asyncio.sleep(2.0)
        assert not waiting.done() and (await executor.state(session)).alive, "watched: the lease is kept fresh"
        waiting.cancel()
        folder = on_host(server, executor.session_dir(session))
        deadline = time.monotonic() + 6
        while not (folder / "exit.json").exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert "no word from the orchestrator" in (folder / "orphaned").read_text()
        assert json.loads((folder / "exit.json").read_text())["returncode"] == -15
        assert (await executor.state(session)).exit is not None
        await asyncio.sleep(0.3)
        assert pid is not None and living_members(pid) == []
    finally:
        await executor.close()


async def test_wait_gives_up_with_host_down_once_the_host_is_gone_longer_than_lost_after(server: SshServer) -> None:
    executor = SshExecutor([server.host(lost_after_s=1.0, orphan_stop_after_s=0.5)], poll_s=0.1)
    session = new_session(executor, number=23)
    try:
        workspace = await executor.prepare(session)
        pid = await executor.start(session, spec(workspace.path, "echo up; sleep 60"))
        waiting = asyncio.create_task(executor.wait(session))
        await asyncio.sleep(0.3)
        server.stop()
        started = time.monotonic()
        try:
            await asyncio.wait_for(waiting, 6)
        except ExecutorError as error:
            assert error.error_class == "host_down" and "taken as lost" in str(error)
        else:
            raise AssertionError("wait returned while the host was gone")
        assert time.monotonic() - started < 4
    finally:
        await executor.close()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):  # its watchdog may have ended it first (orphan_stop_after_s)
                os.killpg(pid, signal.SIGKILL)


async def test_one_executor_runs_sessions_on_two_hosts_each_in_its_own_clone(make_server: Callable[[str], SshServer]) -> None:
    first, second = make_server("mini-1"), make_server("mini-2")
    executor = SshExecutor([first.host("mini-1"), second.host("mini-2", labels=["macos"])])
    sessions = [new_session(executor, number=30, host="mini-1"), new_session(executor, number=31, host="mini-2")]
    try:
        assert [host.name for host in executor.hosts] == ["mini-1", "mini-2"] and executor.hosts[1].labels == ("macos",)
        for session in sessions:
            workspace = await executor.prepare(session)
            await executor.start(session, spec(workspace.path, 'git commit -q --allow-empty -m "on $(basename "$HOME")"; echo "$HOME"'))
        statuses = await asyncio.wait_for(asyncio.gather(*(executor.wait(session) for session in sessions)), 10)
        assert [status.returncode for status in statuses] == [0, 0]
        assert [await read_all(executor, session) for session in sessions] == [f"{first.home}\n".encode(), f"{second.home}\n".encode()]
        for server, branch in ((first, "feature/issue-30"), (second, "feature/issue-31")):
            log = subprocess.run(["git", "log", "-1", "--format=%s", branch], cwd=server.home / "src/repo", capture_output=True, text=True)
            assert log.stdout.strip() == "on home"
        assert [status.reachable for status in await executor.probe()] == [True, True]
    finally:
        await executor.close()
