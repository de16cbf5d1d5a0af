"""One asyncssh connection per host: connect on demand, time out everything, back off while it is down.

Every remote command goes through `HostConnection.run`, which either answers within its timeout
or raises `ExecutorError` with `error_class` `host_down` (unreachable, timed out, connection
lost) or `host_refused` (host key not trusted or changed, login refused): a dead host never
hangs a caller, and while it stays dead callers are refused at once until the next retry is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.ssh_library import asyncssh

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh_errors import HOST_DOWN, HOST_REFUSED, explain_connect_error, resolved_address

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
CHANNEL_REFUSALS_MAX = 20
CHANNEL_RETRY_S = 0.05
"""A refused channel is asked for again after this, times the refusals so far."""
CHANNEL_CLOSE_WAIT_S = 2.0


def remote_path(path: str) -> str:
    """A host path quoted for sh, with a leading `~/` expanded by the remote shell."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def sh_command(script: str) -> str:
    """Run `script` under /bin/sh whatever the login shell (zsh on macOS, fish, ...)."""
    return f"/bin/sh -c {shlex.quote(script)}"


class CommandTimedOut(ExecutorError):
    """A remote command ran past its own timeout; the connection itself answered."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_class="timeout")


@dataclass(frozen=True)
class RemoteResult:
    returncode: int | None
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def error_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()


class HostConnection:
    """The one SSH connection to a host, made again when lost; commands share it as channels."""

    def __init__(self, host: HostConfig) -> None:
        self.host = host
        self._connection: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self._channels = asyncio.Semaphore(host.max_channels)
        self._long_channels = asyncio.Semaphore(max(1, host.max_channels - 2))
        self._failures = 0
        self._retry_at = 0.0
        self._last_error: ExecutorError | None = None
        self.down_since: float | None = None
        """Monotonic time of the first failure of the current outage; None while reachable."""

    @property
    def last_error(self) -> str:
        return str(self._last_error) if self._last_error else ""

    def _options(self) -> dict[str, object]:
        host = self.host
        known_hosts = host.known_hosts_path()
        if not known_hosts.is_file():
            address, port = resolved_address(host)  # ssh-keyscan reads no ~/.ssh/config: the real address and port
            raise ExecutorError(
                f"{host.name}: known_hosts file {known_hosts} is missing: add the host's key after checking its "
                f"fingerprint (ssh-keyscan -p {port} {address} >> {known_hosts})", error_class=HOST_REFUSED,
            )
        options: dict[str, object] = {
            "known_hosts": str(known_hosts),
            "connect_timeout": host.connect_timeout_s,
            "login_timeout": host.connect_timeout_s,
            "keepalive_interval": host.keepalive_interval_s,
            "keepalive_count_max": 3,
        }
        if host.ssh_config:
            options["config"] = [host.local_path(path) for path in host.ssh_config]
        if host.port is not None:
            options["port"] = host.port
        if host.user:
            options["username"] = host.user
        if host.identity_file:
            options["client_keys"] = [host.local_path(host.identity_file)]
        if not host.use_agent:
            options["agent_path"] = None
        return options

    async def connect(self) -> asyncssh.SSHClientConnection:
        """The live connection, made now if needed; refused at once while backing off."""
        connection = self._connection
        if connection is not None and not connection.is_closed():
            return connection
        async with self._lock:
            connection = self._connection
            if connection is not None and not connection.is_closed():
                return connection
            if self._last_error is not None and time.monotonic() < self._retry_at:
                raise ExecutorError(str(self._last_error), error_class=self._last_error.error_class)
            try:
                options = self._options()
                connection = await asyncio.wait_for(
                    asyncssh.connect(self.host.ssh_address, **options), self.host.connect_timeout_s + 2,  # type: ignore[arg-type]
                )
            except Exception as error:  # every failure becomes one ExecutorError with a fix in it
                raise self.record_failure(await self._explain(error)) from error
            self._connection = connection
            self._failures, self._last_error, self.down_since = 0, None, None
            return connection

    def record_failure(self, error: ExecutorError, *, back_off: bool = True) -> ExecutorError:
        """Record a failure; with `back_off`, calls are refused at once until the next retry is due.

        A connection lost under a command is connected again at once (no back-off): most often
        the host is fine and the link blinked. A failed connect or a command left unanswered
        backs off, so that a dead host costs its callers nothing but a refusal.
        """
        now = time.monotonic()
        if back_off:
            self._failures += 1
            self._retry_at = now + min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self._failures - 1))
            self._last_error = error
        if self.down_since is None:
            self.down_since = now
        # Debug only: the caller says it where the user looks (the run's line that the host is
        # down, once; `hosts check`'s line), so a warning here would say it again on stderr.
        log.debug("%s", error)
        return error

    async def _explain(self, error: BaseException) -> ExecutorError:
        if isinstance(error, ExecutorError):
            return error
        return await explain_connect_error(self.host, error)

    async def run(self, script: str, *, stdin: bytes = b"", timeout_s: float | None = None) -> RemoteResult:
        """Run a sh script on the host; if the connection was lost before it started, once more on a new one."""
        timeout = timeout_s or self.host.command_timeout_s
        if timeout > self.host.command_timeout_s:
            # Long commands (fetch, worktree add, git after the agent) leave channels free for
            # the short ones, which would otherwise wait behind them and time out.
            async with self._long_channels:
                return await self._run(script, stdin, timeout)
        return await self._run(script, stdin, timeout)

    async def _run(self, script: str, stdin: bytes, timeout: float) -> RemoteResult:
        refusals = 0
        attempt = 0
        while attempt < 2:
            attempt += 1
            if refusals:
                await asyncio.sleep(CHANNEL_RETRY_S * refusals)
            connection = await self.connect()
            async with self._channels:
                try:
                    process = await asyncio.wait_for(
                        connection.create_process(sh_command(script), input=stdin, encoding=None), self.host.connect_timeout_s,
                    )
                except asyncssh.ChannelOpenError as error:
                    # The host refused a channel (sshd's MaxSessions, 10 by default, counts channels
                    # still closing): the connection is fine, and every command on it would be lost
                    # if it were dropped. Wait for channels to close, then ask again.
                    refusals += 1
                    if refusals > CHANNEL_REFUSALS_MAX:
                        raise self.record_failure(ExecutorError(f"{self.host.name}: the host refused a channel {refusals} times ({error})", error_class=HOST_DOWN), back_off=False) from error
                    attempt -= 1
                    continue
                except (asyncio.TimeoutError, asyncssh.DisconnectError, OSError, EOFError) as error:
                    # Nothing ran yet: a connection found dead on use is made again, once.
                    self.drop(connection)
                    if attempt == 2:
                        raise self.record_failure(ExecutorError(f"{self.host.name}: connection lost ({error or 'no answer'})", error_class=HOST_DOWN), back_off=False) from error
                    continue
                try:
                    return await asyncio.wait_for(self._finish(process, timeout), timeout + 2)
                except asyncio.TimeoutError:
                    self.drop(connection)
                    raise self.record_failure(ExecutorError(
                        f"{self.host.name}: no answer within {timeout:.0f}s (host hung or network cut)", error_class=HOST_DOWN,
                    )) from None
                except (asyncssh.DisconnectError, OSError, EOFError) as error:
                    # Cut while the command ran: it may have done its work, so it is not run again.
                    self.drop(connection)
                    raise self.record_failure(ExecutorError(f"{self.host.name}: connection lost during a command ({error})", error_class=HOST_DOWN), back_off=False) from error
        raise AssertionError("unreachable")

    async def _finish(self, process: asyncssh.SSHClientProcess[bytes], timeout: float) -> RemoteResult:
        try:
            completed = await process.wait(timeout=timeout)
        except asyncssh.TimeoutError as error:
            raise CommandTimedOut(f"{self.host.name}: a command ran longer than {timeout:.0f}s") from error
        finally:
            process.close()
            # The channel counts against the host's MaxSessions until it is closed on both sides:
            # its slot is given back only then.
            with contextlib.suppress(asyncio.TimeoutError, OSError, asyncssh.Error):
                await asyncio.wait_for(process.wait_closed(), CHANNEL_CLOSE_WAIT_S)
        if completed.exit_status is None and completed.exit_signal is None:
            raise ConnectionError("the channel closed before the command exited")
        stdout = completed.stdout if isinstance(completed.stdout, bytes) else b""
        stderr = completed.stderr if isinstance(completed.stderr, bytes) else b""
        return RemoteResult(completed.exit_status, stdout, stderr)

    async def open_process(self, script: str) -> asyncssh.SSHClientProcess[bytes]:
        """A long-running command on the host (the pump), its stdin and stdout open; it holds no channel slot."""
        refusals = 0
        attempt = 0
        while attempt < 2:
            attempt += 1
            connection = await self.connect()
            try:
                return await asyncio.wait_for(connection.create_process(sh_command(script), encoding=None), self.host.connect_timeout_s)
            except asyncssh.ChannelOpenError as error:
                refusals += 1  # refused, not lost: see _run
                if refusals > CHANNEL_REFUSALS_MAX:
                    raise self.record_failure(ExecutorError(f"{self.host.name}: the host refused a channel {refusals} times ({error})", error_class=HOST_DOWN), back_off=False) from error
                attempt -= 1
                await asyncio.sleep(CHANNEL_RETRY_S * refusals)
                continue
            except (asyncio.TimeoutError, asyncssh.DisconnectError, OSError, EOFError) as error:
                self.drop(connection)  # found dead on use: made again, once
                if attempt == 2:
                    raise self.record_failure(ExecutorError(f"{self.host.name}: connection lost ({error or 'no answer'})", error_class=HOST_DOWN), back_off=False) from error
        raise AssertionError("unreachable")

    def drop(self, connection: asyncssh.SSHClientConnection | None = None) -> None:
        """Forget the connection (closing it), so the next command connects again."""
        current = self._connection
        if connection is not None and connection is not current:
            connection.abort()
            return
        self._connection = None
        if current is not None:
            current.abort()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
            try:
                await asyncio.wait_for(connection.wait_closed(), 2)
            except (asyncio.TimeoutError, OSError, asyncssh.Error):
                pass
