"""Local sessions under the detached runner: real processes, the files the orchestrator reads back."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.local import LocalExecutor

REPORT = (
    "import os, sys; print(os.getcwd()); print(os.getpriority(os.PRIO_PROCESS, 0)); print(sys.stdin.read() == '');"
    " print(open('/proc/self/autogroup').read().split()[-1] if os.path.exists('/proc/self/autogroup') else 'none'); sys.exit(3)"
)


def _spec(tmp_path: Path, *argv: str) -> LaunchSpec:
    workdir = tmp_path / "worktree"
    workdir.mkdir(exist_ok=True)
    return LaunchSpec(argv=argv, env={"PATH": os.environ.get("PATH", "")}, cwd=str(workdir))


async def test_the_agent_runs_in_its_worktree_nicer_than_us_and_its_exit_is_recorded(tmp_path: Path) -> None:
    executor = LocalExecutor(niceness=10)
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
    executor = LocalExecutor(niceness=0)
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", REPORT))
    await asyncio.wait_for(executor.wait(session), 20)
    assert int((session / "stdout.jsonl").read_text().splitlines()[1]) == os.getpriority(os.PRIO_PROCESS, 0)


async def test_a_missing_program_is_exit_127_with_the_reason(tmp_path: Path) -> None:
    executor = LocalExecutor()
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, str(tmp_path / "no-such-agent")))
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert status.returncode == 127
    record = json.loads((session / "exit.json").read_text())
    assert "No such file" in record["error"]
    assert "cannot start" in (session / "stderr.log").read_text()


async def test_stop_forwards_sigterm_to_the_agent(tmp_path: Path) -> None:
    executor = LocalExecutor()
    session = tmp_path / "session"
    await executor.start(session, _spec(tmp_path, sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"))
    for _ in range(200):
        if (session / "stdout.jsonl").exists() and (session / "stdout.jsonl").read_text():
            break
        await asyncio.sleep(0.05)
    await executor.stop(session, grace_s=10)
    status = await asyncio.wait_for(executor.wait(session), 20)
    assert status.returncode == -15, "the agent died of the SIGTERM the runner passed on"
