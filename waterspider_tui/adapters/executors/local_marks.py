"""A session's mark in the environment of everything it starts, and the processes still carrying it.

Why: what an agent starts in a session of its own (`setsid`, a daemon's double fork) leaves the
process group a stop or the end of the agent signals. The Python runner, a Linux child
subreaper, still found such processes below itself; the shell launcher has no subreaper, so
they go to init. The environment is inherited across `setsid`, forks and execs, so the session's
mark in it finds them wherever they went.

Only the environments of processes started since the session began are read (their start
time is in /proc/PID/stat), outside the sessions still running; other users' are not readable to
us. So a look costs one small read per process of the machine and one per younger process of
ours outside running sessions, in a thread, and session ends
at about the same time share one look (`SharedLooks`; costs in benchmarks/README.md, dispatch).
Its limit: a process that empties its own environment (`env -i`) carries no mark and is out of
reach. Without /proc (macOS) nothing is found, and only the process group is ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from pathlib import Path
from typing import Callable

MARK_VARIABLE = "WATERSPIDER_SESSION_MARK"
"""Its value is the session folder: one per attempt, so one session's mark never matches another's."""
START_SLACK_S = 2.0
"""Processes started up to this long before the recorded start are read too: the wall clock and
the kernel's boot-relative start times may disagree by a little (clock steps, rounding)."""
PROC = Path("/proc")
MIN_LOOK_INTERVAL_S = 0.05
"""Looks start at most this often (see SharedLooks): at most 50 ms more before a slot is free, and
then only while other sessions are ending too."""
PF_KTHREAD = 0x00200000
"""A kernel thread's flag in /proc/PID/stat: no environment to read (and a blank one is not a process mid-exec)."""
BLANK_RETRY_S = 0.02
"""How long a look waits to read again an environment it found empty (a process being exec'd)."""


def mark_of(session_dir: Path) -> str:
    return str(session_dir)


def _boot_time() -> float | None:
    try:
        for line in (PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _read(path: str, limit: int = 1 << 20) -> bytes | None:
    """The bytes of a small /proc file, or None once its process is gone or it is not ours to read.

    Why `os.read`: `open()` builds two buffer objects per file, and a look reads hundreds of files.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        size = 0
        while size < limit and (chunk := os.read(fd, 1 << 16)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _mark_in(environ: bytes) -> str | None:
    """The value of MARK_VARIABLE in a /proc environ (NUL-separated entries), or None."""
    key = f"\0{MARK_VARIABLE}=".encode()
    padded = b"\0" + environ
    at = padded.find(key)
    if at < 0:
        return None
    value_end = padded.find(b"\0", at + len(key))
    return padded[at + len(key):value_end if value_end >= 0 else None].decode("utf-8", "replace")


def carries_mark(pid: int, mark: str) -> bool:
    """True if process `pid` has `MARK_VARIABLE=mark` in its environment (False once it is gone or unreadable)."""
    environ = _read(f"/proc/{pid}/environ")
    return environ is not None and _mark_in(environ) == mark


def processes_by_mark(since: float = 0.0, running_sessions: frozenset[int] = frozenset()) -> dict[str, list[int]]:
    """The live processes started at or after `since` (wall clock) that carry a mark, by mark,
    leaving out those still in one of `running_sessions` (the pids of running sessions' shells).

    Why those are left out unread: a process in a running session's own session (the shell is its
    leader) descends from that shell and carries its mark, not another's; with hundreds of agents
    running, reading their environments was most of a look's cost. Other users' environments are
    not readable (unless we are root), so the kernel leaves them out. Called from a thread.
    """
    boot = _boot_time()
    if boot is None:
        return {}
    earliest = (since - START_SLACK_S - boot) * os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    found: dict[str, list[int]] = {}
    blank: list[int] = []
    for name in os.listdir(PROC):
        if not name.isdigit() or int(name) == me:
            continue
        stat = _read(f"/proc/{name}/stat", 4096)
        try:
            fields = stat.rsplit(b")", 1)[1].split() if stat else []
            if not fields or int(fields[19]) < earliest or int(fields[6]) & PF_KTHREAD or int(fields[3]) in running_sessions:
                continue
        except (IndexError, ValueError):
            continue
        environ = _read(f"/proc/{name}/environ")
        if environ == b"":
            blank.append(int(name))
        elif environ is not None and (mark := _mark_in(environ)) is not None:
            found.setdefault(mark, []).append(int(name))
    if blank:
        # A process in the middle of its exec shows an empty environment for a moment: read it again.
        time.sleep(BLANK_RETRY_S)
        for pid in blank:
            environ = _read(f"/proc/{pid}/environ")
            if environ and (mark := _mark_in(environ)) is not None:
                found.setdefault(mark, []).append(pid)
    return found


def marked_processes(mark: str, since: float = 0.0) -> list[int]:
    """The live processes started at or after `since` that carry `mark`. In a thread (see processes_by_mark)."""
    return sorted(processes_by_mark(since).get(mark, []))


class SharedLooks:
    """Looks for marked processes, one look through /proc serving every session end that asked meanwhile.

    Why: hundreds of agents can end within a second, and a look costs milliseconds of CPU per
    few hundred processes; each asker still gets a look that began after it asked. Looks start
    at most every MIN_LOOK_INTERVAL_S: under a stream of ends, those asking meanwhile share the
    next one (measured in benchmarks/bench_session_end.py); a lone end waits for nothing.
    """

    def __init__(self, running_sessions: Callable[[], set[int]] = set) -> None:
        self._running_sessions = running_sessions
        """The pids of the shells of sessions still running (see processes_by_mark)."""
        self._waiting: list[tuple[str, float, int, asyncio.Future[list[int]]]] = []
        self._serving: asyncio.Task[None] | None = None
        self._last_look = -MIN_LOOK_INTERVAL_S
        self.looks = 0
        """How many looks were made (the benchmark counts them)."""

    async def find(self, mark: str, since: float, session: int = 0) -> list[int]:
        """The processes carrying `mark` started since `since`; `session` is the pid of its shell (read even while it runs)."""
        answer: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._waiting.append((mark, since, session, answer))
        if self._serving is None or self._serving.done():
            self._serving = asyncio.ensure_future(self._serve())
        return await answer

    async def _serve(self) -> None:
        while self._waiting:
            pause = self._last_look + MIN_LOOK_INTERVAL_S - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._last_look = time.monotonic()
            batch, self._waiting = self._waiting, []
            skipped = frozenset(self._running_sessions() - {session for _, _, session, _ in batch})
            look = functools.partial(processes_by_mark, min(since for _, since, _, _ in batch), skipped)
            self.looks += 1
            try:
                found = await asyncio.to_thread(look)
            except Exception as error:  # an unreadable /proc: each asker hears it
                for _, _, _, answer in batch:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            for mark, _, _, answer in batch:
                if not answer.done():
                    answer.set_result(sorted(found.get(mark, [])))


def signal_marked(pids: list[int], mark: str, signum: int) -> list[int]:
    """Send `signum` to those of `pids` that still carry `mark` (a pid reused since is left alone); returns them."""
    signalled = []
    for pid in pids:
        if carries_mark(pid, mark):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
                signalled.append(pid)
    return signalled


def session_start(session_dir: Path) -> float:
    """When the session began, as far as its folder tells; 0 (every process is read) when it does not.

    The earlier of the pid file's time (written as the session starts) and the first heartbeat
    (the shell writes the start time once; the runner refreshes it, so there it is later).
    """
    times = []
    with contextlib.suppress(OSError):
        times.append((session_dir / "runner.pid").stat().st_mtime)
    with contextlib.suppress(OSError, ValueError):
        times.append(float((session_dir / "heartbeat").read_text().strip()))
    return min(times, default=0.0)
