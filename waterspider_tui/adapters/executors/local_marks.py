"""A session's mark in the environment of everything it starts, and the processes still carrying it.

Why: what an agent starts in a session of its own (`setsid`, a daemon's double fork) leaves the
process group a stop or the end of the agent signals. The Python runner, a Linux child
subreaper, still found such processes below itself; the shell launcher has no subreaper, so
they go to init. The environment is inherited across `setsid`, forks and execs, so the session's
mark in it finds them wherever they went.

Only processes of our own user started since the session began are read (by their start time
in /proc), so a check costs one `stat` per process of the machine and one read of a few
environments (benchmarks/README.md, dispatch). Its limit: a process that empties its own
environment (`env -i`) carries no mark and is out of reach. Without /proc (macOS) nothing is
found, and only the process group is ended.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

MARK_VARIABLE = "WATERSPIDER_SESSION_MARK"
"""Its value is the session folder: one per attempt, so one session's mark never matches another's."""
START_SLACK_S = 2.0
"""Processes started up to this long before the recorded start are read too: the wall clock and
the kernel's boot-relative start times may disagree by a little (clock steps, rounding)."""
PROC = Path("/proc")


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


def _started_at(pid: str, boot: float, ticks: int) -> float | None:
    """When process `pid` started (wall clock, from /proc/PID/stat), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return boot + int(fields[19]) / ticks
    except (OSError, IndexError, ValueError):
        return None


def carries_mark(pid: int, mark: str) -> bool:
    """True if process `pid` has `MARK_VARIABLE=mark` in its environment (False once it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            entries = environ.read().split(b"\0")
    except OSError:
        return False
    return f"{MARK_VARIABLE}={mark}".encode() in entries


def marked_processes(mark: str, since: float = 0.0, skip: frozenset[int] = frozenset()) -> list[int]:
    """Our user's live processes started at or after `since` (wall clock) that carry `mark`.

    Called from a thread: it reads /proc, which on a busy machine is thousands of small reads.
    """
    boot = _boot_time()
    if boot is None:
        return []
    ticks = os.sysconf("SC_CLK_TCK")
    uid, me = os.getuid(), os.getpid()
    found = []
    for name in os.listdir(PROC):
        if not name.isdigit() or int(name) in skip or int(name) == me:
            continue
        try:
            if os.stat(PROC / name).st_uid != uid:
                continue
        except OSError:
            continue
        started = _started_at(name, boot, ticks)
        if started is None or started < since - START_SLACK_S:
            continue
        if carries_mark(int(name), mark):
            found.append(int(name))
    return sorted(found)


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
