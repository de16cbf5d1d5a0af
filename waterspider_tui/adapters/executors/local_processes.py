"""Sessions as local processes, detached (under the Python runner or the shell wrapper), found again by their session folder."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors import runner
from waterspider_tui.adapters.executors.base import ExitStatus
from waterspider_tui.adapters.executors.local_direct import check_launchable, end_leftovers, escaped_processes, wrapper_argv, wrapper_env
from waterspider_tui.adapters.executors.local_marks import MARK_VARIABLE, SharedLooks, mark_of
from waterspider_tui.adapters.executors.local_pids import _kill_session, _pid_alive, _read_pid, _runs_session, record_pid

__all__ = ["LAUNCHERS", "SESSION_NICENESS", "DetachedProcesses", "_pid_alive"]

EXIT_POLL_S = 0.05
KILL_WAIT_S = 2.0
"""How long a stop waits for SIGKILLed processes to be gone (one stuck in the kernel is given up on)."""
RUNNER_ARGV = (sys.executable, "-I", "-S", runner.__file__)
"""The runner is one standard-library-only file: an isolated interpreter without site-packages
starts it in about 10 ms of CPU instead of 50, which counts when a hundred sessions start at once."""
SESSION_NICENESS = 15
"""Sessions run this much nicer than the orchestrator. Why: agents are batch work; the
orchestrator starting the next session, reading streams and drawing the control center is
what the operator waits on. Measured here with 40 busy sessions on 2 cores, a fixed piece of
orchestrator work took 19x its CPU time at equal priority, 3.5x at 10 and 1.6x at 15."""


SPAWN_THREADS = 4
"""Runners are started from threads, never on the event loop. Why not asyncio's subprocesses:
each starts a waiter thread and waits for it to run, and on a machine busy with a hundred
starting agents that wait was 30 ms a session, with the loop (dispatch, streams, the screen)
stopped meanwhile. From a thread a start took 4 ms under the same load, and they overlap."""


LAUNCHERS = ("direct", "runner")
"""`direct`: the agent under a shell wrapper, one interpreter per session (`local_direct.py`);
`runner`: under the Python runner (`runner.py`), which also takes in an agent's orphans."""


SpanSink = Callable[[str, float, float], None]
"""`(span, wall seconds, CPU seconds of the thread that did it)` for each part of a start."""


class _Stopwatch:
    """Times consecutive parts of one start in the thread doing them."""

    def __init__(self, on_span: SpanSink | None) -> None:
        self.on_span = on_span
        self.wall, self.cpu = time.perf_counter(), time.thread_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        if self.on_span is not None:
            self.on_span(name, wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu


def _start_detached(
    session_dir: Path, argv: list[str], env: dict[str, str], cwd: str | None, *,
    check: Callable[[], None] | None, priority: int | None, on_span: SpanSink | None,
) -> subprocess.Popen[bytes]:
    """In a spawn thread: check, start the session's first process in a session of its own, write its pid, lower it."""
    watch = _Stopwatch(on_span)
    if check is not None:
        check()
        watch.lap("launch_check")
    session_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
    watch.lap("process_start")
    # The runner (or the shell) writes its pid file once it is up; a restart in those few
    # milliseconds must still find the session alive, so the pid is on disk before the spawn is reported.
    record_pid(session_dir / "runner.pid", process.pid)
    watch.lap("pid_file")
    if priority is not None:
        runner.lower_priority(priority, process.pid)
        watch.lap("priority")
    return process


async def _exited(process: subprocess.Popen[bytes]) -> None:
    """Returns once our child has exited, and reaps it, without a thread per child.

    Linux tells us through a pidfd the loop watches; elsewhere the child is polled.
    """
    pidfd = None
    if hasattr(os, "pidfd_open"):
        with contextlib.suppress(OSError):
            pidfd = os.pidfd_open(process.pid)  # works for a child that exited and was not yet reaped
    if pidfd is None:
        while process.poll() is None:
            await asyncio.sleep(EXIT_POLL_S)
        return
    loop = asyncio.get_running_loop()
    exited = loop.create_future()
    loop.add_reader(pidfd, lambda: exited.done() or exited.set_result(None))
    try:
        await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    process.wait()


class DetachedProcesses:
    """Runs sessions on this machine, detached so that they outlive an orchestrator restart."""

    def __init__(self, capacity: int = 5, name: str = "local", niceness: int = SESSION_NICENESS, launcher: str = "direct") -> None:
        if launcher not in LAUNCHERS:
            raise ValueError(f"unknown launcher {launcher!r}: one of {', '.join(LAUNCHERS)}")
        self.name = name
        self.host = name
        self.capacity = capacity
        self.niceness = niceness
        self.launcher = launcher
        self._children: dict[Path, subprocess.Popen[bytes]] = {}
        self._spawner = ThreadPoolExecutor(max_workers=SPAWN_THREADS, thread_name_prefix="waterspider-spawn")
        self.marked = SharedLooks(lambda: {child.pid for child in self._children.values() if child.returncode is None})
        """Finds what sessions left outside their process group by their mark (see local_marks.py)."""

    async def start(self, session_dir: Path, spec: LaunchSpec, on_span: SpanSink | None = None) -> int | None:
        """Start the session detached; `on_span` hears how long each part of the start took."""
        target = self._session_priority()
        if self.launcher == "direct":
            # `nice` and the shell itself lower the session (see local_direct.py): nothing to do after the start.
            spawn = functools.partial(
                _start_detached, session_dir, wrapper_argv(session_dir, spec, self.niceness, target), wrapper_env(session_dir, spec), spec.cwd,
                check=functools.partial(check_launchable, session_dir, spec), priority=None, on_span=on_span,
            )
        else:
            env = {**spec.env, MARK_VARIABLE: mark_of(session_dir)}  # the runner ends these itself; the mark costs nothing
            env["WATERSPIDER_RUNNER_CWD"] = spec.cwd
            if spec.stdin_file:
                env["WATERSPIDER_RUNNER_STDIN"] = spec.stdin_file
            if target is not None:
                env["WATERSPIDER_RUNNER_NICE"] = str(target)
            spawn = functools.partial(_start_detached, session_dir, [*RUNNER_ARGV, str(session_dir), "--", *spec.argv], env, None,
                                      check=None, priority=target, on_span=on_span)
        process = await asyncio.get_running_loop().run_in_executor(self._spawner, spawn)
        self._children[session_dir] = process
        return process.pid

    def _session_priority(self) -> int | None:
        """Relative to ours, so an orchestrator started with `nice` keeps its sessions below it."""
        return min(19, os.getpriority(os.PRIO_PROCESS, 0) + self.niceness) if self.niceness > 0 else None

    def exit_status(self, session_dir: Path) -> ExitStatus | None:
        path = session_dir / "exit.json"
        try:
            data = json.loads(path.read_text())
            # The shell wrapper has no clock of its own: the file's mtime is when it ended.
            ended = float(data["ended"]) if "ended" in data else path.stat().st_mtime
        except (OSError, ValueError, TypeError):
            return None
        return ExitStatus(returncode=data.get("returncode"), ended=ended)

    def is_alive(self, session_dir: Path) -> bool:
        pid = _read_pid(session_dir / "runner.pid")
        return pid is not None and _pid_alive(pid) and _runs_session(pid, session_dir)

    def was_spawned(self, session_dir: Path) -> bool:
        return (session_dir / "runner.pid").exists()

    async def runs_unrecorded(self, session_dir: Path) -> bool:
        """Whether a process carrying the session's mark runs though no pid file says so: an orchestrator
        killed between the spawn and its write of the pid, before the shell wrote its own. Such a
        session is running; taking it as never started would run its issue twice."""
        return bool(await self.marked.find(mark_of(session_dir), 0.0))

    async def wait(self, session_dir: Path) -> ExitStatus:
        """Returns once the runner ended: at once for our own child, by polling for a reattached one."""
        child = self._children.get(session_dir)
        if child is not None:
            await _exited(child)
            self._children.pop(session_dir, None)
        while True:
            status = self.exit_status(session_dir)
            if status is not None:
                # Under the shell wrapper what the agent left, in its group or marked outside it, is
                # ended here (the runner has done so before writing its exit: then nothing is left).
                pid = _read_pid(session_dir / "runner.pid")
                if pid is not None:
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, os.WNOHANG)  # a child of ours whose watcher went away stays a zombie in its group
                    await end_leftovers(pid, session_dir, self.marked)
                return status
            if child is not None or not self.is_alive(session_dir):
                # The runner died without writing its exit (SIGKILL): the agent's fate is unknown.
                await asyncio.sleep(EXIT_POLL_S)
                status = self.exit_status(session_dir)
                return status or ExitStatus(returncode=None, ended=time.time())
            await asyncio.sleep(0.2)

    async def stop(self, session_dir: Path, grace_s: float) -> None:
        """SIGTERM the session's process group, then SIGKILL whatever of it is left after grace_s.

        The agent having exited ends the wait early but does not skip the kill: a grandchild may
        ignore SIGTERM. Once the runner is done (it ends the agent's leftovers itself), the wait
        ends as soon as nothing of the session is left. What runs below the session when the stop
        begins is listed first: under the shell wrapper, a grandchild in a session of its own
        leaves the tree as soon as the agent dies of the SIGTERM; with it, what carries the
        session's mark outside the tree (see local_marks.py) gets the same signals.
        """
        pid = _read_pid(session_dir / "runner.pid")
        if pid is None or not _runs_session(pid, session_dir):
            return
        # What the agent sent to init (a daemon's double fork) is below nobody: its mark finds it.
        escaped = await escaped_processes(self.marked, session_dir, pid)
        below = sorted({*runner.session_processes(pid), *escaped})
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        for other in escaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(other, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self.exit_status(session_dir) is None and _pid_alive(pid):
            await asyncio.sleep(0.1)
        while time.monotonic() < deadline and (runner.session_processes(pid) or any(_pid_alive(other) for other in below)):
            await asyncio.sleep(0.25)
        killed = _kill_session(pid, below)
        # A nice process dies of SIGKILL only once it is scheduled: the stop ends when it is gone.
        gone_by = time.monotonic() + KILL_WAIT_S
        while time.monotonic() < gone_by and any(_pid_alive(other) for other in killed):
            await asyncio.sleep(EXIT_POLL_S)
