"""Why an SSH host could not be reached, in one line that says how to fix it."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.ssh_library import asyncssh

from waterspider_tui.adapters.executors.base import ExecutorError

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig

HOST_DOWN = "host_down"
"""Unreachable, timed out or connection lost: it may come back by itself."""
HOST_REFUSED = "host_refused"
"""Host key not trusted or changed, login refused, key file missing: the operator must act."""


def resolved_address(host: HostConfig) -> tuple[str, int]:
    """The host name and port ssh would connect to, `~/.ssh/config` aliases applied (HostName, Port)."""
    # config=() reads ~/.ssh/config as asyncssh.connect does by default; None would read nothing.
    kwargs: dict[str, object] = {"host": host.ssh_address, "port": host.port if host.port is not None else (), "config": ()}
    if host.ssh_config:
        kwargs["config"] = [host.local_path(path) for path in host.ssh_config]
    try:
        options = asyncssh.SSHClientConnectionOptions(**kwargs)  # type: ignore[arg-type]
        return str(options.host), int(options.port)
    except (asyncssh.Error, OSError, ValueError, TypeError):
        return host.ssh_address, host.port or 22


def _known_name(address: str, port: int) -> str:
    return address if port == 22 else f"[{address}]:{port}"


async def _fingerprint(address: str, port: int) -> str:
    """The key the host presents now (no login), or '' when it cannot be had quickly."""
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(address, port), 4)
    except (asyncio.TimeoutError, OSError, asyncssh.Error):
        return ""
    return key.get_fingerprint() if key is not None else ""


async def _host_key_error(host: HostConfig) -> ExecutorError:
    address, port = await asyncio.to_thread(resolved_address, host)
    known_hosts = host.known_hosts_path()
    name = _known_name(address, port)
    try:
        trusted = asyncssh.match_known_hosts(str(known_hosts), address, "", port if port != 22 else None)[0]
    except (OSError, ValueError, asyncssh.Error):
        trusted = []
    presented = await _fingerprint(address, port)
    now = f" (it now presents {presented})" if presented else ""
    if trusted:
        message = (
            f"{host.name}: REFUSED, the host key of {name} has CHANGED{now} and no longer matches {known_hosts}. "
            f"Someone may be intercepting the connection; if the host was reinstalled, check the new fingerprint on it "
            f"(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run ssh-keygen -R '{name}' -f {known_hosts} and connect once with ssh"
        )
    else:
        message = (
            f"{host.name}: REFUSED, {name} is not in {known_hosts}{now}. Check the fingerprint on the host "
            f"(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it (ssh-keyscan -p {port} {address} >> {known_hosts})"
        )
    return ExecutorError(message, error_class=HOST_REFUSED)


async def explain_connect_error(host: HostConfig, error: BaseException) -> ExecutorError:
    """One ExecutorError for a failed connection: what went wrong and what to do about it."""
    address, port = await asyncio.to_thread(resolved_address, host)
    where = f"{address}:{port}" if address == host.ssh_address else f"{host.ssh_address} ({address}:{port})"
    if isinstance(error, asyncssh.HostKeyNotVerifiable):
        return await _host_key_error(host)
    if isinstance(error, asyncssh.PermissionDenied):
        who = f"{host.user}@{host.ssh_address}" if host.user else host.ssh_address
        # ssh-copy-id reads ~/.ssh/config itself: an alias needs no -p, a plain address needs its port.
        copy_to = who if address != host.ssh_address or port == 22 else f"-p {port} {who}"
        return ExecutorError(
            f"{host.name}: login to {where} refused: none of the keys offered is in its ~/.ssh/authorized_keys "
            f"(ssh-copy-id {copy_to}, or set identity_file)", error_class=HOST_REFUSED,
        )
    if isinstance(error, (asyncssh.KeyImportError, FileNotFoundError, PermissionError)):
        return ExecutorError(f"{host.name}: cannot read the identity file {host.identity_file}: {error}", error_class=HOST_REFUSED)
    if isinstance(error, socket.gaierror):
        return ExecutorError(
            f"{host.name}: cannot resolve {host.ssh_address} ({error.strerror}): a typo, or a Host alias missing from ~/.ssh/config",
            error_class=HOST_DOWN,
        )
    if isinstance(error, ConnectionRefusedError):
        return ExecutorError(
            f"{host.name}: nothing listens on {where}: is sshd running (on a Mac: System Settings > General > Sharing > Remote Login)?",
            error_class=HOST_DOWN,
        )
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return ExecutorError(
            f"{host.name}: no answer from {where} within {host.connect_timeout_s:.0f}s (asleep, off the network, or a firewall)",
            error_class=HOST_DOWN,
        )
    if isinstance(error, OSError):
        return ExecutorError(f"{host.name}: cannot connect to {where}: {error.strerror or error}", error_class=HOST_DOWN)
    if isinstance(error, asyncssh.Error):
        return ExecutorError(f"{host.name}: SSH to {where} failed: {error.reason}", error_class=HOST_DOWN)
    return ExecutorError(f"{host.name}: SSH to {where} failed: {type(error).__name__}: {error}", error_class=HOST_DOWN)
