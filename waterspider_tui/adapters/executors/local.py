"""Sessions as local processes under the detached runner, found again by their session folder."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.base import ExitStatus

EXIT_POLL_S = 0.05


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


def _runs_session(pid: int, session_dir: Path) -> bool:
    """True if pid is our runner for this session (pids get reused after a reboot)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid file and the liveness check
    return str(session_dir).encode() in cmdline


class LocalExecutor:
    """Runs sessions on this machine, detached so that they outlive an orchestrator restart."""

    def __init__(self, capacity: int = 5, name: str = "local") -> None:
        self.name = name
        self.host = name
        self.capacity = capacity
        self._children: dict[Path, asyncio.subprocess.Process] = {}

    async def start(self, session_dir: Path, spec: LaunchSpec) -> int | None:
        session_dir.mkdir(parents=True, exist_ok=True)
        env = dict(spec.env)
        env["WATERSPIDER_RUNNER_CWD"] = spec.cwd
        env.setdefault("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "waterspider_tui.adapters.executors.runner", str(session_dir), "--", *spec.argv,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env=env, start_new_session=True,
        )
        self._children[session_dir] = process
        return process.pid

    def exit_status(self, session_dir: Path) -> ExitStatus | None:
        try:
            data = json.loads((session_dir / "exit.json").read_text())
        except (OSError, ValueError):
            return None
        return ExitStatus(returncode=data.get("returncode"), ended=float(data.get("ended", 0.0)))

    def is_alive(self, session_dir: Path) -> bool:
        pid = _read_pid(session_dir / "runner.pid")
        return pid is not None and _pid_alive(pid) and _runs_session(pid, session_dir)

    def was_spawned(self, session_dir: Path) -> bool:
        return (session_dir / "runner.pid").exists()

    async def wait(self, session_dir: Path) -> ExitStatus:
        """Returns once the runner ended: at once for our own child, by polling for a reattached one."""
        child = self._children.get(session_dir)
        if child is not None:
            await child.wait()
            self._children.pop(session_dir, None)
        while True:
            status = self.exit_status(session_dir)
            if status is not None:
                return status
            if child is not None or not self.is_alive(session_dir):
                # The runner died without writing its exit (SIGKILL): the agent's fate is unknown.
                await asyncio.sleep(EXIT_POLL_S)
                status = self.exit_status(session_dir)
                return status or ExitStatus(returncode=None, ended=time.time())
            await asyncio.sleep(0.2)

    async def stop(self, session_dir: Path, grace_s: float) -> None:
        pid = _read_pid(session_dir / "runner.pid")
        if pid is None or not _runs_session(pid, session_dir):
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if self.exit_status(session_dir) is not None or not _pid_alive(pid):
                return
            await asyncio.sleep(0.1)
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
