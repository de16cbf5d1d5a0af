"""Reaching hosts: verified host keys, dead hosts that fail fast, ~/.ssh/config aliases, probes and `hosts check`."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Callable

import pytest

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.host_check import check_hosts
from waterspider_tui.adapters.executors.ssh import SshExecutor

from remote_sessions import new_session
from sshd_server import SshServer, keygen

from tests.ports import reserve_port


async def test_a_changed_host_key_refuses_the_host_and_says_what_to_do(server: SshServer) -> None:
    keygen_path = server.host_key
    keygen_path.unlink()
    Path(f"{keygen_path}.pub").unlink()
    keygen(keygen_path)  # the host now presents another key; known_hosts still has the old one
    server.restart()
    executor = SshExecutor([server.host()])
    try:
        with pytest.raises(ExecutorError) as refused:
            await executor.prepare(new_session(executor))
        message = str(refused.value)
        assert refused.value.error_class == "host_refused"
        assert "CHANGED" in message and f"[127.0.0.1]:{server.port}" in message and "ssh-keygen -R" in message
        assert "SHA256:" in message, "the key it presents now, to compare with the host's own"
        status = (await executor.probe())[0]
        assert not status.reachable and "CHANGED" in status.error
    finally:
        await executor.close()


async def test_a_host_missing_from_known_hosts_is_refused_too(server: SshServer) -> None:
    server.known_hosts.write_text("")
    executor = SshExecutor([server.host()])
    try:
        with pytest.raises(ExecutorError) as refused:
            await executor.state(new_session(executor))
        assert refused.value.error_class == "host_refused"
        assert "is not in" in str(refused.value) and "ssh-keyscan" in str(refused.value)
    finally:
        await executor.close()


async def test_a_dead_host_fails_fast_and_then_at_once(server: SshServer) -> None:
    dead_port = reserve_port()  # nothing listens, and no connection is given it as its own port
    executor = SshExecutor([server.host("mini-dead", port=dead_port)])
    session = new_session(executor, host="mini-dead")
    try:
        with pytest.raises(ExecutorError) as down:
            await executor.prepare(session)
        assert down.value.error_class == "host_down" and "nothing listens" in str(down.value)
        # Something listens there now: a call that tried to connect would knock on it.
        with socket.create_server(("127.0.0.1", dead_port)) as listener:
            listener.setblocking(False)
            with pytest.raises(ExecutorError) as again:
                await executor.state(session)
            assert again.value.error_class == "host_down"
            with pytest.raises(BlockingIOError):
                listener.accept()  # while backing off, refused without trying
        assert await executor.read_output(session, 0) == b""
        status = (await executor.probe())[0]
        assert (status.name, status.reachable, status.slots_total) == ("mini-dead", False, 2)
    finally:
        await executor.close()


async def test_an_ssh_config_alias_is_enough_to_reach_a_host(server: SshServer) -> None:
    ssh_config = server.root / "ssh_config"
    ssh_config.write_text(f"Host mini-alias\n  HostName 127.0.0.1\n  Port {server.port}\n  User root\n  IdentityFile {server.client_key}\n")
    host = server.host("mini-alias", address="", port=None, user=None, identity_file=None, ssh_config=[str(ssh_config)])
    executor = SshExecutor([host])
    try:
        status = (await executor.probe())[0]
        assert status.reachable, status.error
    finally:
        await executor.close()


async def test_the_probe_reports_load_cores_memory_disk_and_running_sessions(server: SshServer) -> None:
    executor = SshExecutor([server.host(labels=["linux", "gpu"])])
    try:
        status = (await executor.probe())[0]
        assert status.reachable and status.load is not None and status.load >= 0
        assert status.mem_percent is not None and 0 < status.mem_percent <= 100
        assert getattr(status, "cores", 1) >= 1 and getattr(status, "disk_free_gb", 1) > 0
        assert getattr(status, "os", "Linux") == "Linux" and getattr(status, "labels", ("linux", "gpu")) == ("linux", "gpu")
        assert status.slots_used == 0 and status.probed_at > 0
    finally:
        await executor.close()


async def test_hosts_check_says_per_host_what_is_wrong_and_how_to_fix_it(make_server: Callable[[str], SshServer]) -> None:
    good, bare = make_server("mini-1"), make_server("mini-2")
    dead_port = reserve_port()  # nothing listens, and no connection is given it as its own port
    hosts = [
        good.host("mini-1", agents=["command"]),
        bare.host("mini-2", agents=["claude"], repo_path=str(bare.home / "nowhere")),
        good.host("mini-3", port=dead_port),
    ]
    checks = await check_hosts(hosts)
    lines = {check.name: check for check in checks}
    assert [check.name for check in checks] == ["mini-1", "mini-2", "mini-3"]
    assert lines["mini-1"].ok and lines["mini-1"].line.startswith("mini-1: ok (git ")
    assert not lines["mini-2"].ok
    assert "claude not found" in lines["mini-2"].line and "npm install -g @anthropic-ai/claude-code" in lines["mini-2"].line
    assert "no clone at" in lines["mini-2"].line
    assert not lines["mini-3"].ok and "nothing listens" in lines["mini-3"].line


async def test_a_hung_host_does_not_hold_up_the_others_probes_and_is_not_probed_twice_at_once(make_server) -> None:
    quick, hung = make_server("mini-1"), make_server("mini-2")
    assert hung.process is not None
    os.kill(hung.process.pid, signal.SIGSTOP)  # it accepts TCP connections and never says a word: a hung machine
    executor = SshExecutor([quick.host("mini-1"), hung.host("mini-2", connect_timeout_s=30.0)])
    try:
        first = await executor.probe()
        assert [(status.name, status.reachable) for status in first] == [("mini-1", True)], "mini-2's probe is still out"
        second = await executor.probe()
        assert [status.name for status in second] == ["mini-1"]
        assert _connections_to(hung.port) == 1, "the hung host is not probed twice at once"
    finally:
        os.kill(hung.process.pid, signal.SIGCONT)
        await executor.close()


def _connections_to(port: int) -> int:
    """Client ends of TCP connections to 127.0.0.1:port on this machine (the kernel accepts them for a stopped sshd)."""
    count = 0
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            count += 1
    return count
