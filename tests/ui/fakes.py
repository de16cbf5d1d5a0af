"""FakeEngine: the EngineHandle contract over real snapshots (core replay and core scheduler)."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import Plan, Planner, SchedulerConfig
from waterspider_tui.core.state import Snapshot, apply_all, replay


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
    ) -> None:
        self.title = title
        self.capacity = capacity
        self.now = now
        self._seq = 0
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
        self.fail_with: Exception | None = None
        """When set, the next submit raises it (to test unexpected engine errors)."""

    def _numbered(self, events: Iterable[ev.Event]) -> list[ev.Event]:
        numbered = []
        for event in events:
            self._seq += 1
            numbered.append(replace(event, seq=self._seq))
        return numbered

    # EngineHandle

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def plan(self) -> Plan:
        if self._plan is None or self._plan[0] != id(self._snapshot):
            self._plan = (id(self._snapshot), self._planner.plan(self._snapshot, self.now))
        return self._plan[1]

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
