"""The pid file and the processes of a local session: alive, ours, and killed with everything below it."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Sequence

from waterspider_tui.adapters.executors import runner


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _kill_session(runner_pid: int, listed_before: Sequence[int] = ()) -> list[int]:
    """SIGKILL the runner's process group, every process below the runner and those `listed_before`.

    Those below are listed before anything is killed: a killed runner's orphans leave its tree.
    """
    left = sorted({*runner.session_processes(runner_pid), *(pid for pid in listed_before if _pid_alive(pid))})
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(runner_pid, signal.SIGKILL)
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return left


def _runs_session(pid: int, session_dir: Path) -> bool:
    """True if pid is our runner for this session (pids get reused after a reboot)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid file and the liveness check
    if cmdline == [b""]:
        # While `nice` execs the session's shell the kernel shows no command line for a moment;
        # a zombie shows none either, and the liveness check has already told those apart.
        return True
    return str(session_dir).encode() in cmdline


def record_pid(path: Path, pid: int) -> None:
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(f"{pid}\n")
    os.replace(temporary, path)
