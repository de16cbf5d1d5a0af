"""A host reached through a `~/.ssh/config` alias (HostName, Port): what goes wrong names the address
and port ssh really used, and the fix it suggests works without the alias (ssh-keyscan reads no config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.host_check import check_hosts
from waterspider_tui.adapters.executors.ssh import SshExecutor

from remote_sessions import new_session
from sshd_server import SshServer, keygen

from tests.ports import reserve_port


def _alias_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, port: int) -> None:
    """A HOME whose ~/.ssh/config makes `name` an alias of 127.0.0.1:port, as README's guide sets up."""
    home = tmp_path / "alias-home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(f"Host {name}\n  HostName 127.0.0.1\n  Port {port}\n")
    monkeypatch.setenv("HOME", str(home))


def _aliased(server: SshServer, name: str):
    return server.host(name, address="", port=None, ssh_config=[])


async def test_a_dead_alias_names_the_address_and_port_it_stands_for(server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dead_port = reserve_port()
    _alias_home(tmp_path, monkeypatch, "mini-dead", dead_port)
    executor = SshExecutor([_aliased(server, "mini-dead")])
    try:
        with pytest.raises(ExecutorError) as down:
            await executor.state(new_session(executor, host="mini-dead"))
    finally:
        await executor.close()
    assert f"nothing listens on mini-dead (127.0.0.1:{dead_port})" in str(down.value), str(down.value)
    assert "mini-dead:22" not in str(down.value)


async def test_an_alias_missing_from_known_hosts_shows_the_fingerprint_and_a_keyscan_that_works(server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _alias_home(tmp_path, monkeypatch, "mini-3", server.port)
    server.known_hosts.write_text("")
    host = _aliased(server, "mini-3")
    [line] = await check_hosts([host])
    assert not line.ok and "REFUSED" in line.line, line.line
    assert "SHA256:" in line.line, "the key the host presents now, to compare with the host's own"
    assert f"ssh-keyscan -p {server.port} 127.0.0.1 >>" in line.line, line.line
    assert f"[127.0.0.1]:{server.port} is not in" in line.line


async def test_a_changed_key_behind_an_alias_is_refused_with_the_fingerprint_it_now_shows(server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _alias_home(tmp_path, monkeypatch, "mini-3", server.port)
    server.host_key.unlink()
    Path(f"{server.host_key}.pub").unlink()
    keygen(server.host_key)  # the host now presents another key; known_hosts still has the old one
    server.restart()
    [line] = await check_hosts([_aliased(server, "mini-3")])
    assert not line.ok and f"REFUSED, the host key of [127.0.0.1]:{server.port} has CHANGED (it now presents SHA256:" in line.line, line.line
