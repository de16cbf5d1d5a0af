"""The contract of an executor: where a session's work happens, and how the engine sees it.

An executor owns everything about one session's place: the worktree on its host, starting the
agent detached, its output (read from an offset, so a remote log reads like a local one), its
liveness and exit, stopping it, finding it again after an orchestrator restart, and running git
in its worktree for the steps after the agent. The engine never opens a session's files itself:
nothing about a session may assume the orchestrator's disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import LaunchSpec
    from waterspider_tui.core.models import EarlierRound, HostStatus, SessionInfo


@dataclass(frozen=True)
class ExitStatus:
    returncode: int | None
    ended: float
    error: str = ""
    """Set when the agent could not be started at all (the exec error), empty otherwise."""
    error_class: str = ""
    """Set when the session failed after its agent where it ran (a step on a CI runner): its
    failure class, which stands even when the agent's own stream says it succeeded."""
    cancelled: str = ""
    """Set when someone stopped the session where it ran (a run cancelled on GitHub): it ends
    cancelled, as an operator's cancel does, with this as its reason."""
    earlier_rounds: tuple[EarlierRound, ...] = ()
    """Rounds of the session before its last where it ran (a failed gate sent the work back to the
    agent on a CI runner), each an attempt of its own."""
    last_round_cost_usd: float | None = None
    last_round_turns: int | None = None
    """The last round's own cost and turns, where the session had earlier rounds: the stream holds
    every round, and its figures count them all."""


@dataclass(frozen=True)
class HostSlots:
    """One host an executor can place sessions on, as configured."""

    name: str
    slots: int
    labels: tuple[str, ...] = ()
    """What the host offers (`macos`, `linux`, `gpu`, ...), matched against `needs:LABEL`."""
    agents: tuple[str, ...] = ()
    """Agent kinds installed there; empty means any."""


@dataclass(frozen=True)
class SessionPaths:
    """Where a new session lives on its host: its own folder, its worktree and branch."""

    session_dir: str
    worktree: str
    branch: str


@dataclass(frozen=True)
class WorkOrder:
    """What an executor needs to know to place one session of one issue."""

    issue_key: str
    number: int
    repo: str
    attempt: int
    token: str
    """A short random id that makes the session folder unique across attempts and restarts."""
    multi_repo: bool = False


@dataclass(frozen=True)
class PreparedWorkspace:
    """The worktree a session runs in, as its host sees it."""

    path: str
    branch: str
    base: str
    reused: bool


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str = ""
    timed_out: bool = False
    """The command ran past its timeout and was killed (`returncode` is then 124)."""


class ExecutorError(RuntimeError):
    """The executor could not do what was asked (workspace refused, host down); one line why."""

    def __init__(self, message: str, *, error_class: str = "workspace") -> None:
        super().__init__(message)
        self.error_class = error_class
        """The failure class the session gets (`workspace`, `host_down`, ...)."""


@dataclass(frozen=True)
class SessionState:
    """What an executor found about a session it was asked about after a restart."""

    alive: bool
    exit: ExitStatus | None = None
    spawned: bool = True
    """False when the session never got as far as starting its agent."""


class Executor(Protocol):
    """Runs sessions somewhere: this machine, a host over SSH, a CI runner."""

    name: str
    hosts: Sequence[HostSlots]

    def locate(self, order: WorkOrder, host: str) -> SessionPaths:
        """The session's folder, worktree and branch on `host` (pure: nothing is created)."""
        ...

    def base_branch(self, session: SessionInfo) -> str:
        """The branch the session's issue branch starts from on its host."""
        ...

    async def prepare(self, session: SessionInfo) -> PreparedWorkspace:
        """Make the session's worktree ready on its host (created, reused or repaired).

        Raises ExecutorError naming what is wrong; a folder in the way is left alone.
        """
        ...

    async def start(self, session: SessionInfo, spec: LaunchSpec) -> int | None:
        """Start the agent detached (it outlives the orchestrator); its pid where there is one."""
        ...

    async def read_output(self, session: SessionInfo, offset: int, limit: int = 1 << 20) -> bytes:
        """The agent's stdout from byte `offset` on (at most `limit` bytes, b"" when nothing new)."""
        ...

    async def state(self, session: SessionInfo) -> SessionState:
        """Alive, ended (with its exit), or gone; used by reconcile after a restart."""
        ...

    async def wait(self, session: SessionInfo) -> ExitStatus:
        """Return once the session ended (also one started by an earlier orchestrator)."""
        ...

    async def stop(self, session: SessionInfo, grace_s: float) -> None:
        """Ask the whole session to end, then kill whatever is left after `grace_s`."""
        ...

    async def git(self, session: SessionInfo, *args: str, timeout_s: float = 60.0) -> CommandResult:
        """Run git in the session's worktree on its host (the steps after the agent use this)."""
        ...

    async def run(
        self, session: SessionInfo, argv: Sequence[str], timeout_s: float, *,
        env: Mapping[str, str] | None = None, output_limit: int = 64_000,
    ) -> CommandResult:
        """Run a command in the session's worktree on its host (the completion gate's checks).

        Its environment is the host's plain one (PATH, HOME, locale; never the orchestrator's
        secrets) plus `env`. Stdout and stderr come back together in `stdout`, only their last
        `output_limit` bytes; past `timeout_s` the command's whole process group is killed and
        `timed_out` is set. A program that cannot be started gives returncode 127.
        """
        ...

    async def probe(self) -> list[HostStatus]:
        """Each host's load, memory and reachability, now."""
        ...

    async def close(self) -> None:
        ...
