"""The contract of an executor: start a session detached, find it again, stop it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from waterspider_tui.adapters.agents.base import LaunchSpec


@dataclass(frozen=True)
class ExitStatus:
    returncode: int | None
    ended: float


class Executor(Protocol):
    """Runs agent processes somewhere (this machine, a remote host, a runner)."""

    name: str
    host: str
    capacity: int

    async def start(self, session_dir: Path, spec: LaunchSpec) -> int | None:
        """Start the session detached; return its process id where there is one."""
        ...

    async def wait(self, session_dir: Path) -> ExitStatus:
        """Wait for the session to end (also one started by an earlier orchestrator)."""
        ...

    def is_alive(self, session_dir: Path) -> bool:
        ...

    def exit_status(self, session_dir: Path) -> ExitStatus | None:
        ...

    async def stop(self, session_dir: Path, grace_s: float) -> None:
        """SIGTERM the session's process group, then SIGKILL after the grace period."""
        ...
