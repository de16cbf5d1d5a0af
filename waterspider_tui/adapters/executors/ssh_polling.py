"""Watching many sessions of one host cheaply: one pump channel, batched output reads, one exit loop.

Each session's watcher asks for its output every 0.2 s and waits for its exit. Done as one SSH
command per call, fifty sessions on a Mac mini would open hundreds of channels a second and
start more processes there. Instead a small pump (`ssh_pump.py`) stays running on the host
behind one channel; reads that arrive within a few milliseconds of each other go to it as one
request, and every waited-on session of a host is checked by one loop, one request per tick.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

from waterspider_tui.adapters.executors.ssh_library import asyncssh

from waterspider_tui.adapters.executors.base import ExecutorError, ExitStatus
from waterspider_tui.adapters.executors.ssh_connection import remote_path
from waterspider_tui.adapters.executors.ssh_errors import HOST_DOWN

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_connection import HostConnection

log = logging.getLogger(__name__)

NEVER_STARTED_AFTER_S = 30.0
"""A folder the launcher took whose runner wrote no pid after this long never started."""


@dataclass(frozen=True)
class RemoteSessionState:
    """What the pump found about one session folder."""

    exit: ExitStatus | None = None
    pid: int | None = None
    alive: bool = False
    heartbeat_age_s: float | None = None
    starting_age_s: float | None = None
    """Seconds since the launcher took the folder, when the runner has not written its pid yet."""

    @classmethod
    def from_pump(cls, found: dict[str, object]) -> RemoteSessionState:
        if "exit" in found:
            try:
                record = json.loads(str(found["exit"]))
            except ValueError:
                record = {"error": f"unreadable exit record: {str(found['exit'])[:80]}"}
            record = record if isinstance(record, dict) else {}
            if found.get("orphaned") and not record.get("error"):
                record = {**record, "error": str(found["orphaned"])}
            return cls(exit=exit_status(record))
        pid, beat, starting = found.get("pid"), found.get("heartbeat_age_s"), found.get("starting_age_s")
        return cls(
            pid=pid if isinstance(pid, int) else None, alive=found.get("alive") is True,
            heartbeat_age_s=float(beat) if isinstance(beat, (int, float)) else None,
            starting_age_s=float(starting) if isinstance(starting, (int, float)) else None,
        )

    @property
    def gone_without_exit(self) -> str:
        """Why the session is over though it left no exit record; '' while it may still run."""
        if self.exit is not None:
            return ""
        if self.pid is not None and not self.alive:
            return "the runner died without an exit record"
        if self.pid is None and (self.starting_age_s is None or self.starting_age_s > NEVER_STARTED_AFTER_S):
            return "the session never started on its host"
        return ""


class HostPump:
    """The host's `ssh_pump.py` behind one long-lived channel, asked one request at a time.

    Every request is safe to repeat (reads, liveness, touching leases), so one lost on a cut
    connection is sent again once on a new one.
    """

    def __init__(self, connection: HostConnection, install: Callable[[], Awaitable[str]], python: str) -> None:
        self.connection = connection
        self.install = install
        self.python = python
        self._process: asyncssh.SSHClientProcess[bytes] | None = None
        self._lock = asyncio.Lock()

    async def ask(self, *, read: Sequence[tuple[str, int, int]] = (), state: Sequence[str] = (), touch: Sequence[str] = ()) -> tuple[list[bytes], list[RemoteSessionState]]:
        request = json.dumps({"read": [list(item) for item in read], "state": list(state), "touch": list(touch)}).encode() + b"\n"
        timeout = self.connection.host.command_timeout_s
        async with self._lock:
            for attempt in (1, 2):
                process = await self._open()
                try:
                    process.stdin.write(request)
                    header = await asyncio.wait_for(process.stdout.readline(), timeout)
                    if not header.endswith(b"\n"):
                        raise ConnectionError("the pump ended")
                    answer = json.loads(header)
                    sizes = [int(size) for size in answer["sizes"]]
                    body = await asyncio.wait_for(process.stdout.readexactly(sum(sizes)), timeout)
                except asyncio.TimeoutError:
                    self.close()
                    self.connection.drop()
                    raise self.connection.record_failure(ExecutorError(f"{self.connection.host.name}: no answer within {timeout:.0f}s", error_class=HOST_DOWN)) from None
                except (ConnectionError, OSError, EOFError, asyncssh.Error, asyncio.IncompleteReadError, ValueError, KeyError, TypeError) as error:
                    self.close()
                    if attempt == 2:
                        raise self.connection.record_failure(ExecutorError(f"{self.connection.host.name}: connection lost ({error})", error_class=HOST_DOWN), back_off=False) from error
                    continue
                chunks, position = [], 0
                for size in sizes:
                    chunks.append(body[position:position + size])
                    position += size
                return chunks, [RemoteSessionState.from_pump(found) for found in answer.get("states", [])]
        raise AssertionError("unreachable")

    async def _open(self) -> asyncssh.SSHClientProcess[bytes]:
        process = self._process
        if process is not None and not process.is_closing():
            return process
        folder = await self.install()
        self._process = await self.connection.open_process(f"exec {remote_path(self.python)} -I -S {remote_path(folder + '/ssh_pump.py')}")
        return self._process

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.close()


class OutputReads:
    """Reads of session output files on one host, gathered for `window_s` and sent as one request."""

    def __init__(self, pump: HostPump, window_s: float = 0.01) -> None:
        self.pump = pump
        self.window_s = window_s
        self._pending: list[tuple[str, int, int, asyncio.Future[bytes]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def read(self, path: str, offset: int, limit: int) -> bytes:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending.append((path, offset, limit, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(self.window_s)
        batch, self._pending, self._flusher = self._pending, [], None
        batch = [entry for entry in batch if not entry[3].done()]
        if not batch:
            return
        try:
            chunks, _ = await self.pump.ask(read=[(path, offset, limit) for path, offset, limit, _ in batch])
        except Exception as error:  # every reader gets the failure, none is left hanging
            for *_, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (*_, future), chunk in zip(batch, chunks + [b""] * (len(batch) - len(chunks))):
            if not future.done():
                future.set_result(chunk)

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        for *_, future in self._pending:
            future.cancel()
        self._pending = []


class ExitWatch:
    """Waits for sessions of one host to end: one request per tick for all of them.

    Each tick also touches the sessions' `lease` files, which tells their watchdogs that the
    orchestrator is still there. A host unreachable for `lost_after_s` fails every waiter with
    `host_down`; shorter outages are waited out (the sessions run on without us).
    """

    def __init__(self, pump: HostPump, poll_s: float, lost_after_s: float) -> None:
        self.pump = pump
        self.poll_s = poll_s
        self.lost_after_s = lost_after_s
        self._waiters: dict[str, list[asyncio.Future[ExitStatus]]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    async def wait(self, session_dir: str) -> ExitStatus:
        future: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(session_dir, []).append(future)
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.create_task(self._watch())
        try:
            return await future
        finally:
            waiting = self._waiters.get(session_dir, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(session_dir, None)

    def _settle(self, session_dir: str, outcome: ExitStatus | BaseException) -> None:
        for future in self._waiters.pop(session_dir, []):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _watch(self) -> None:
        connection = self.pump.connection
        while self._waiters:
            folders = list(self._waiters)
            try:
                _, states = await self.pump.ask(state=folders, touch=[f"{folder}/lease" for folder in folders])
            except ExecutorError as error:
                down_for = time.monotonic() - (connection.down_since or time.monotonic())
                if down_for >= self.lost_after_s:
                    lost = ExecutorError(f"{error} (unreachable for {down_for:.0f}s: its sessions are taken as lost)", error_class=HOST_DOWN)
                    for folder in folders:
                        self._settle(folder, lost)
                await asyncio.sleep(self.poll_s)
                continue
            for folder, state in zip(folders, states):
                if state.exit is not None:
                    self._settle(folder, state.exit)
                elif state.gone_without_exit:
                    self._settle(folder, ExitStatus(returncode=None, ended=time.time(), error=state.gone_without_exit))
            await asyncio.sleep(self.poll_s)

    def close(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
        for futures in self._waiters.values():
            for future in futures:
                future.cancel()


def exit_status(record: dict[str, object]) -> ExitStatus:
    returncode = record.get("returncode")
    ended = record.get("ended")
    return ExitStatus(
        returncode=returncode if isinstance(returncode, int) else None,
        ended=float(ended) if isinstance(ended, (int, float)) else time.time(),
        error=str(record.get("error") or ""),
    )
