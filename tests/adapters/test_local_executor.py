"""Local sessions under the detached runner: real processes, the files the orchestrator reads back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors import runner
from waterspider_tui.adapters.executors.local_marks import MARK_VARIABLE, SharedLooks
from waterspider_tui.adapters.executors.local_processes import DetachedProcesses, _pid_alive

REPORT = (
    "import os, sys; print(os.getcwd()); print(os.getpriority(os.PRIO_PROCESS, 0)); print(sys.stdin.read() == '');"
    " print(open('/proc/self/autogroup').read().split()[-1] if os.path.exists('/proc/self/autogroup') else 'none'); sys.exit(3)"
)


def _spec(tmp_path: Path, *argv: str) -> LaunchSpec:
    workdir = tmp_path / "worktree"
    workdir.mkdir(exist_ok=True)
    return LaunchSpec(argv=argv, env={"PATH": os.environ.get("PATH", "")}, cwd=str(workdir))


async def test_the_agent_runs_in_its_worktree_nicer_than_us_and_its_exit_is_recorded(tmp_path: Path) -> None:
    executor = DetachedProcesses(niceness=10, launcher="runner")  # the shell wrapper's twin: tests/engine/test_direct_launch.py
    session = tmp_path / "session"
    pid = await executor.start(session, _spec(tmp_path, sys.executable, "-c", REPORT))
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert pid == int((session / "runner.pid").read_text())
    assert (session / "child.pid").read_text().strip().isdigit()
    assert status.returncode == 3
    cwd, priority, stdin_empty, autogroup_nice = (session / "stdout.jsonl").read_text().splitlines()
    assert cwd == str(tmp_path / "worktree")
    assert int(priority) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    assert stdin_empty == "True"
    if Path("/proc/self/autogroup").exists():  # Linux: its session's CPU share is lowered as well
        assert int(autogroup_nice) == int(priority)
    assert json.loads((session / "exit.json").read_text())["returncode"] == 3


async def test_niceness_zero_runs_sessions_at_our_priority(tmp_path: Path) -> None:
    executor = DetachedProcesses(niceness=0)
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", REPORT))
    await asyncio.wait_for(executor.wait(session), 20)
    assert int((session / "stdout.jsonl").read_text().splitlines()[1]) == os.getpriority(os.PRIO_PROCESS, 0)


async def test_a_missing_program_is_exit_127_with_the_reason(tmp_path: Path) -> None:
    executor = DetachedProcesses(launcher="runner")
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, str(tmp_path / "no-such-agent")))
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert status.returncode == 127
    record = json.loads((session / "exit.json").read_text())
    assert "No such file" in record["error"]
    assert "cannot start" in (session / "stderr.log").read_text()


async def test_stop_forwards_sigterm_to_the_agent(tmp_path: Path) -> None:
    executor = DetachedProcesses()
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"))
    for _ in range(200):
        if (session / "stdout.jsonl").exists() and (session / "stdout.jsonl").read_text():
            break
        await asyncio.sleep(0.05)
    await executor.stop(session, grace_s=10)
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert status.returncode == -15, "the agent died of the SIGTERM the runner passed on"


IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"


def _agent_with_a_grandchild(*, own_session: bool, then_exit: bool) -> str:
    """An agent that starts a grandchild ignoring SIGTERM (in a session of its own with `setsid`), prints its pid, then exits or waits."""
    return (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}], stdout=subprocess.PIPE, start_new_session={own_session})\n"
        "child.stdout.readline()\n"
        "print(child.pid, flush=True)\n"
        f"{'sys.exit(0)' if then_exit else 'time.sleep(120)'}\n"
    )


async def _grandchild_pid(session: Path) -> int:
    for _ in range(400):
        if (session / "stdout.jsonl").exists() and (text := (session / "stdout.jsonl").read_text()).endswith("\n"):
            return int(text.split()[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"the agent did not start its grandchild: {(session / 'stderr.log').read_text()}")


def _kill_if_alive(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the runner takes in orphans only on Linux (a child subreaper)")


@pytest.mark.parametrize("own_session", [False, pytest.param(True, marks=linux_only)], ids=["same-group", "setsid"])
@pytest.mark.parametrize("grace_s", [10.0, 0.5], ids=["grace-10s", "grace-0.5s"])
async def test_stop_leaves_no_grandchild_that_ignores_sigterm(tmp_path: Path, own_session: bool, grace_s: float) -> None:
    executor = DetachedProcesses()
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=own_session, then_exit=False)))
    grandchild = await _grandchild_pid(session)
    try:
        await asyncio.wait_for(executor.stop(session, grace_s=grace_s), grace_s + 10)
        await asyncio.wait_for(executor.wait(session), 20)
        assert not _pid_alive(grandchild), "the grandchild outlived its stopped session"
    finally:
        _kill_if_alive(grandchild)


@pytest.mark.parametrize("launcher", ["direct", "runner"])
@pytest.mark.parametrize("own_session", [False, pytest.param(True, marks=linux_only)], ids=["same-group", "setsid"])
async def test_what_an_agent_leaves_running_ends_with_it(tmp_path: Path, own_session: bool, launcher: str) -> None:
    executor = DetachedProcesses(launcher=launcher)
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", _agent_with_a_grandchild(own_session=own_session, then_exit=True)))
    grandchild = await _grandchild_pid(session)
    try:
        status = await asyncio.wait_for(executor.wait(session), 20)
        assert status.returncode == 0
        assert not _pid_alive(grandchild), "the exit was recorded while the agent's grandchild still ran"
    finally:
        _kill_if_alive(grandchild)


async def test_an_agent_that_leaves_nothing_behind_ends_at_once(tmp_path: Path) -> None:
    executor = DetachedProcesses()
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", "print('done')"))
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert status.returncode == 0
    printed_at = (session / "stdout.jsonl").stat().st_mtime
    assert status.ended - printed_at < runner.LEFTOVER_GRACE_S / 2, "no grace is waited out when nothing is left"


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="marks are read through /proc")
async def test_session_ends_at_the_same_time_share_one_look_and_each_finds_only_its_own_marked_processes(tmp_path: Path) -> None:
    looks = SharedLooks()
    since = time.time()

    def marked(mark: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["sleep", "60"], env={**os.environ, MARK_VARIABLE: mark}, start_new_session=True)

    first, second, unmarked = marked(str(tmp_path / "a")), marked(str(tmp_path / "b")), subprocess.Popen(["sleep", "60"])
    try:
        found = await asyncio.gather(*(looks.find(str(tmp_path / name), since) for name in ("a", "b", "c")))
        assert found == [[first.pid], [second.pid], []]
        assert looks.looks == 1, "three ends asking together were served by one look"
        later = marked(str(tmp_path / "c"))
        try:
            assert await looks.find(str(tmp_path / "c"), since) == [later.pid], "a look begun after the question sees what started before it"
        finally:
            later.kill()
            later.wait()
        assert looks.looks == 2
        assert await looks.find(str(tmp_path / "a"), time.time() + 60) == [], "what started before the session is not read"
    finally:
        for process in (first, second, unmarked):
            process.kill()
            process.wait()


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="marks are read through /proc")
async def test_a_look_leaves_running_sessions_unread_but_not_the_one_asking(tmp_path: Path) -> None:
    mark = str(tmp_path / "session")
    leader = subprocess.Popen(["sleep", "60"], env={**os.environ, MARK_VARIABLE: mark}, start_new_session=True)
    try:
        looks = SharedLooks(lambda: {leader.pid})
        assert await looks.find(mark, time.time() - 5) == [], "a process in a running session's own session is not read"
        assert await looks.find(mark, time.time() - 5, leader.pid) == [leader.pid], "the session asking (a stop) is read"
    finally:
        leader.kill()
        leader.wait()


async def test_a_session_whose_pid_file_is_not_written_yet_is_found_running_by_its_mark(tmp_path: Path) -> None:
    """An orchestrator killed between the spawn and the pid file's write (before the shell's own): the
    restart must find the session running by the mark in its environment, not start the issue again."""
    session = tmp_path / "session"
    session.mkdir()
    executor = DetachedProcesses(niceness=0, launcher="direct")
    assert not await executor.runs_unrecorded(session), "nothing runs for it yet"
    started = subprocess.Popen(["sleep", "30"], env={**os.environ, MARK_VARIABLE: str(session)}, start_new_session=True)
    try:
        assert not executor.was_spawned(session)
        assert await executor.runs_unrecorded(session)
    finally:
        started.kill()
        started.wait()
    assert not await executor.runs_unrecorded(session), "an ended process is no session"
