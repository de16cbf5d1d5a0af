"""Sessions on the test hosts: a work order's session, launch specs with files, output read to the end."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from waterspider_tui.adapters.agents.base import LaunchSpec
from waterspider_tui.adapters.executors.base import WorkOrder
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.core.models import SessionInfo

from sshd_server import SshServer


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
