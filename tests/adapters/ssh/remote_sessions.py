"""Sessions on the test hosts: a work order's session, launch specs with files, output read to the end,
and a real engine whose sessions run on them."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.base import WorkOrder
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.core.models import SessionInfo
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store

from sshd_server import SshServer

from tests.waiting import WAIT_S


@dataclasses.dataclass(frozen=True)
class SpecWithFiles(LaunchSpec):
    """A launch spec with the files and stdin the agents will ask for (whether or not LaunchSpec has them yet)."""

    files: dict[str, str] = dataclasses.field(default_factory=dict)
    stdin_file: str = ""


def new_session(executor: SshExecutor, number: int = 7, host: str = "mini-1", token: str = "abcd1234") -> SessionInfo:
    order = WorkOrder(issue_key=f"acme/app#{number}", number=number, repo="acme/app", attempt=1, token=token)
    paths = executor.locate(order, host)
    fields = {
        "session_id": f"{number}-1-{token}", "issue": order.issue_key, "attempt": 1, "executor": executor.name, "host": host,
        "worktree": paths.worktree, "branch": paths.branch, "log_path": f"{paths.session_dir}/stdout.jsonl", "started_at": time.time(),
    }
    if "session_dir" in {field.name for field in dataclasses.fields(SessionInfo)}:
        fields["session_dir"] = paths.session_dir
    return SessionInfo(**fields)  # type: ignore[arg-type]


def on_host(server: SshServer, path: str) -> Path:
    """A path the executor gave (maybe `~/...`) as a file of the host, which here is this machine."""
    return server.home / path[2:] if path.startswith("~/") else Path(path)


def spec(worktree: str, script: str, **extra: object) -> LaunchSpec:
    env = {"LANG": "C.UTF-8", "HOME": "/orchestrator/home", "PATH": "/orchestrator/bin", "WS_FROM_SPEC": "spec"}
    return SpecWithFiles(argv=("sh", "-c", script), env=env, cwd=worktree, **extra)  # type: ignore[arg-type]


def living_members(group: int, settle_s: float = 3.0) -> list[int]:
    """Processes of a group that are not zombies (an init that does not reap, as in some containers,
    keeps those), after up to `settle_s` for killed ones to be gone (SIGKILL is delivered, not awaited)."""
    deadline = time.monotonic() + settle_s
    while True:
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(stat.parent.name))
        if not members or time.monotonic() > deadline:
            return members
        time.sleep(0.02)


async def read_all(executor: SshExecutor, session: SessionInfo, offset: int = 0) -> bytes:
    output = b""
    while chunk := await executor.read_output(session, offset + len(output), limit=7):
        output += chunk
    return output


def engine_on_hosts(
    tmp_path: Path, executor: SshExecutor, agent_script: str, issues: Path, *,
    agent_env: dict[str, str] | None = None, capacity: int = 4, max_attempts: int = 2, retry_backoff_s: float = 0.0,
) -> Engine:
    """A real engine: local issues from `issues`, `agent_script` run by Python as the agent on the
    executor's hosts, the commits step after it, and its store in tmp_path/state."""
    script = tmp_path / "agent.py"
    script.write_text(agent_script)
    agent = make_agent("command", {"argv": [sys.executable, str(script)], **({"env": agent_env} if agent_env else {})}, EnvPolicy())
    return Engine(
        store=open_store(tmp_path / "state" / "state.db"), sources=[(LocalIssueSource(issues), 0.2)], agent=agent,
        pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=capacity),
        policy=SessionPolicy(stall_timeout_s=60.0, timeout_s=120.0, grace_s=1.0, max_attempts=max_attempts, retry_backoff_s=retry_backoff_s),
        steps=make_steps(["commits"]),
    )


def write_issues(folder: Path, count: int) -> Path:
    folder.mkdir(exist_ok=True)
    for number in range(1, count + 1):
        (folder / f"{number:03d}.md").write_text(f"---\ntitle: Issue {number}\n---\nbody of {number}\n")
    return folder


def branch_log(clone: Path, branch: str) -> list[str]:
    """The subjects of the branch's commits past main in a host's clone ([] without the branch)."""
    done = subprocess.run(["git", "log", "--format=%s", f"main..{branch}"], cwd=clone, capture_output=True, text=True)
    return done.stdout.split() if done.returncode == 0 else []


async def until(condition: Callable[[], object], what: str, limit_s: float = 60.0) -> None:
    """Poll `condition` until it holds; fail after `limit_s`, or WAIT_S if longer (room for a busy machine)."""
    deadline = asyncio.get_running_loop().time() + max(limit_s, WAIT_S)
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
