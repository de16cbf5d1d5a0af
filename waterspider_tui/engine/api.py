"""What a front end may ask of the engine: snapshots, the plan, session logs, commands."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

if TYPE_CHECKING:
    from waterspider_tui.core.models import LogEntry
    from waterspider_tui.core.commands import Command
    from waterspider_tui.core.scheduler import Plan
    from waterspider_tui.core.state import Snapshot

SnapshotListener = Callable[["Snapshot"], None]
LogListener = Callable[[str, "list[LogEntry]"], None]
"""Called with an issue key and the session's new log entries."""


@dataclass(frozen=True)
class ShellTarget:
    """Where a shell in an issue's worktree opens: one of `folder` (this machine) or `command`
    (to type, for another host), else `reason` says why there is none."""

    folder: str = ""
    command: str = ""
    host: str = ""
    reason: str = ""


class EngineHandle(Protocol):
    """The engine as the TUI and the headless printer see it; both share one engine."""

    title: str
    """What the header shows: the repositories or the issue folder."""
    capacity: int

    @property
    def snapshot(self) -> Snapshot: ...

    @property
    def configured_hosts(self) -> Mapping[str, int]:
        """Every configured host and its slots, probed or not: the Hosts panel lists them from the start."""
        ...

    def plan(self) -> Plan:
        """The scheduler's view of the current snapshot (cached per snapshot)."""
        ...

    def waits_for_host(self, issue_key: str) -> str:
        """Why no host can take this queued issue now ('' when one can): 'waits for a host: mini-1 unreachable'
        (a host down, drained or full, its pin or needs) or 'cannot run on any configured host: ...'."""
        ...

    def subscribe(self, listener: SnapshotListener) -> Callable[[], None]:
        """Call `listener` with each new snapshot; returns an unsubscribe function."""
        ...

    def subscribe_logs(self, listener: LogListener) -> Callable[[], None]:
        ...

    def session_log(self, issue_key: str) -> list[LogEntry]:
        """The recent readable lines of the issue's live or last session (bounded)."""
        ...

    async def load_session_log(self, issue_key: str, attempt: int | None = None) -> list[LogEntry]:
        """The log of any session of the issue (the last by default), ended or running, read
        from wherever it ran: after a restart, the log of a failed session is still readable."""
        ...

    async def submit(self, command: Command) -> str:
        """Carry out an operator command; returns a one-line confirmation.

        Raises ValueError with a one-line reason when the command does not apply
        (requeue of a running issue, cancel of a queued one, unknown issue).
        """
        ...

    async def stop(self, *, leave_running: bool) -> None:
        """Stop dispatching and end the run; sessions are left to reattach or stopped."""
        ...

    def hold_terminal_output(self) -> AbstractContextManager[None]:
        """While another program has the terminal (the operator's shell): the notifiers' bells and
        escape sequences wait, and come once, together, when the block ends."""
        ...

    def shell_target(self, issue_key: str) -> ShellTarget:
        """Where a shell in the issue's (last) worktree opens."""
        ...

    async def load_diff(self, issue_key: str) -> str:
        """The diff of the issue's branch against its base, read on the host its last session ran on.

        Raises RuntimeError with one line when it cannot be read (never ran, host down).
        """
        ...

    async def load_results(self) -> dict[str, Any]:
        """Every finished session's figures, the same as `waterspider report --format json`."""
        ...
