"""FakeEngine: the EngineHandle contract over real snapshots (core replay and core scheduler)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.adapters.sinks.terminal_hold import TerminalHold
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import Plan, Planner, SchedulerConfig
from waterspider_tui.core.state import Snapshot, apply_all, replay
from waterspider_tui.engine import worktree_access
from waterspider_tui.engine.api import ShellTarget

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig


class FakeEngine:
    """Folds real events into real snapshots, plans with the real scheduler, records commands.

    Commands go through the core's own rules (`apply_command`, the function the engine uses):
    the same checks, the same events, the same texts, so the screen shows their real effect.
    """

    def __init__(
        self,
        events: Iterable[ev.Event] = (),
        *,
        now: float,
        title: str = "acme/widgets",
        capacity: int = 5,
        logs: dict[str, list[LogEntry]] | None = None,
        attempt_logs: dict[tuple[str, int], list[LogEntry]] | None = None,
        diffs: dict[str, str] | None = None,
        hosts: dict[str, HostConfig] | None = None,
        configured_hosts: dict[str, int] | None = None,
    ) -> None:
        self.title = title
        self.capacity = capacity
        self.now = now
        self._seq = 0
        self.events: list[ev.Event] = []
        """Every event folded so far, numbered, as the store would give them back."""
        self._snapshot = replay(self._numbered(events))
        self._plan: tuple[int, Plan] | None = None
        self._planner = Planner(SchedulerConfig(capacity=capacity))
        """One planner for the fake's life, as the engine holds one: it reuses what earlier plans computed."""
        self._listeners: list[Callable[[Snapshot], None]] = []
        self._log_listeners: list[Callable[[str, list[LogEntry]], None]] = []
        self.logs: dict[str, list[LogEntry]] = {key: list(value) for key, value in (logs or {}).items()}
        self.attempt_logs = dict(attempt_logs or {})
        """Logs of earlier attempts by (issue, attempt); `logs` stands for the last one."""
        self.loaded: list[tuple[str, int | None]] = []
        """Every load_session_log call, as (issue, attempt)."""
        self.submitted: list[cmd.Command] = []
        """Every command the UI submitted, valid or not, in order."""
        self.stopped: list[bool] = []
        """The `leave_running` value of each stop() call."""
        self.diffs = dict(diffs or {})
        """Stands for `git diff` on the session's host: the diff text by issue."""
        self.waits: dict[str, str] = {}
        """Stands for `Engine.waits_for_host`: why an issue no host can take now waits, by issue."""
        self.hosts = dict(hosts or {})
        """The `[[hosts]]` an `ssh` session's host is looked up in."""
        self.configured_hosts: dict[str, int] = dict(configured_hosts or {})
        """Every configured host and its slots, as the engine's executors have them."""
        self.terminal_hold = TerminalHold()
        """The engine's own: held while the control center lends the terminal to a shell."""
        self.fail_with: Exception | None = None
        """When set, the next submit raises it (to test unexpected engine errors)."""

    def _numbered(self, events: Iterable[ev.Event]) -> list[ev.Event]:
        numbered = []
        for event in events:
            self._seq += 1
            numbered.append(replace(event, seq=self._seq))
        self.events += numbered
        return numbered

    # EngineHandle

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def plan(self) -> Plan:
        if self._plan is None or self._plan[0] != id(self._snapshot):
            self._plan = (id(self._snapshot), self._planner.plan(self._snapshot, self.now))
        return self._plan[1]

    def waits_for_host(self, issue_key: str) -> str:
        """The engine's answer as the test gives it (the real one: tests/engine/test_waits_for_host.py)."""
        return self.waits.get(issue_key, "")

    def subscribe(self, listener: Callable[[Snapshot], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def subscribe_logs(self, listener: Callable[[str, list[LogEntry]], None]) -> Callable[[], None]:
        self._log_listeners.append(listener)
        return lambda: self._log_listeners.remove(listener)

    def session_log(self, issue_key: str) -> list[LogEntry]:
        return list(self.logs.get(issue_key, ()))[-2000:]

    async def load_session_log(self, issue_key: str, attempt: int | None = None) -> list[LogEntry]:
        """Stands for the logs on disk: the scripted ones, whether or not a session is live."""
        self.loaded.append((issue_key, attempt))
        if attempt is not None and (issue_key, attempt) in self.attempt_logs:
            return list(self.attempt_logs[(issue_key, attempt)])
        return list(self.logs.get(issue_key, ()))

    def hold_terminal_output(self) -> AbstractContextManager[None]:
        return self.terminal_hold.holding()

    def shell_target(self, issue_key: str) -> ShellTarget:
        """The engine's own rules; the executor kind is the session's (`local` runs here)."""
        session = worktree_access.latest_session(self._snapshot.tasks.get(issue_key))
        host = self.hosts.get(session.host) if session is not None and session.executor == "ssh" else None
        return worktree_access.shell_target(
            session, on_this_machine=session is not None and session.executor == "local", host=host,
            label="#" + issue_key.rpartition("#")[2],
        )

    async def load_diff(self, issue_key: str) -> str:
        if worktree_access.latest_session(self._snapshot.tasks.get(issue_key)) is None:
            raise RuntimeError(f"#{issue_key.rpartition('#')[2]} has not run yet: it has no branch.")
        if issue_key not in self.diffs:
            raise RuntimeError(f"git diff on the session's host: fatal: bad revision for {issue_key}")
        return self.diffs[issue_key]

    async def load_results(self) -> dict[str, Any]:
        return worktree_access.results_figures(self.events)

    async def submit(self, command: cmd.Command) -> str:
        self.submitted.append(command)
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        events, message = cmd.apply_command(self._snapshot, command, self.now)
        if events:
            self.push(*events)
        return message

    async def stop(self, *, leave_running: bool) -> None:
        self.stopped.append(leave_running)

    # Test helpers

    def push(self, *events: ev.Event) -> Snapshot:
        """Fold events into a new snapshot and tell every subscriber."""
        self._snapshot = apply_all(self._snapshot, self._numbered(events))
        for listener in list(self._listeners):
            listener(self._snapshot)
        return self._snapshot

    def push_logs(self, issue_key: str, entries: list[LogEntry]) -> None:
        """Append to a session's log and tell every log subscriber."""
        self.logs.setdefault(issue_key, []).extend(entries)
        for listener in list(self._log_listeners):
            listener(issue_key, entries)

    def commands_of(self, kind: type[cmd.Command]) -> list[cmd.Command]:
        return [command for command in self.submitted if isinstance(command, kind)]
