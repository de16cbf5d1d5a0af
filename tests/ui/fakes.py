"""FakeEngine: the EngineHandle contract over real snapshots (core replay and core scheduler)."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.scheduler import Plan, SchedulerConfig, plan
from waterspider_tui.core.state import Snapshot, TaskRecord, apply_all, replay


class FakeEngine:
    """Folds real events into real snapshots, plans with the real scheduler, records commands.

    Commands are checked like the engine checks them (ValueError with a one-line reason) and,
    when valid, become the same operator events, so the screen shows their effect.
    """

    def __init__(
        self,
        events: Iterable[ev.Event] = (),
        *,
        now: float,
        title: str = "acme/widgets",
        capacity: int = 5,
        logs: dict[str, list[LogEntry]] | None = None,
    ) -> None:
        self.title = title
        self.capacity = capacity
        self.now = now
        self._seq = 0
        self._snapshot = replay(self._numbered(events))
        self._plan: tuple[int, Plan] | None = None
        self._listeners: list[Callable[[Snapshot], None]] = []
        self._log_listeners: list[Callable[[str, list[LogEntry]], None]] = []
        self.logs: dict[str, list[LogEntry]] = {key: list(value) for key, value in (logs or {}).items()}
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
            self._plan = (id(self._snapshot), plan(self._snapshot, self.now, SchedulerConfig(capacity=self.capacity)))
        return self._plan[1]

    def subscribe(self, listener: Callable[[Snapshot], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def subscribe_logs(self, listener: Callable[[str, list[LogEntry]], None]) -> Callable[[], None]:
        self._log_listeners.append(listener)
        return lambda: self._log_listeners.remove(listener)

    def session_log(self, issue_key: str) -> list[LogEntry]:
        return list(self.logs.get(issue_key, ()))[-2000:]

    async def submit(self, command: cmd.Command) -> str:
        self.submitted.append(command)
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        return self._carry_out(command)

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

    # Command checks, as the engine does them

    def _task(self, key: str) -> TaskRecord:
        task = self._snapshot.tasks.get(key)
        if task is None:
            raise ValueError(f"no issue {key or '(none selected)'}")
        return task

    def _label(self, key: str) -> str:
        return "#" + key.rpartition("#")[2]

    def _carry_out(self, command: cmd.Command) -> str:
        now, by = self.now, command.by
        match command:
            case cmd.PauseDispatcher(reason=reason):
                if self._snapshot.dispatcher_paused:
                    raise ValueError("dispatch is already paused")
                self.push(ev.DispatcherPaused(ts=now, by=by, reason=reason))
                return "dispatch paused: running sessions go on, no new ones start"
            case cmd.ResumeDispatcher():
                if not self._snapshot.dispatcher_paused:
                    raise ValueError("dispatch is not paused")
                self.push(ev.DispatcherResumed(ts=now, by=by))
                return "dispatch resumed"
            case cmd.Refresh():
                return "polling the sources now"
        key = getattr(command, "issue", "")
        task = self._task(key)
        label = self._label(key)
        match command:
            case cmd.PauseIssue():
                if task.overrides.paused:
                    raise ValueError(f"{label} is already paused")
                self.push(ev.IssuePaused(ts=now, issue=key, by=by))
                return f"{label} paused"
            case cmd.ResumeIssue():
                if not task.overrides.paused:
                    raise ValueError(f"{label} is not paused")
                self.push(ev.IssueResumed(ts=now, issue=key, by=by))
                return f"{label} resumed"
            case cmd.Bump(delta=delta):
                if task.state.is_final:
                    raise ValueError(f"{label} is {task.state.value}; requeue it first")
                self.push(ev.PriorityBumped(ts=now, issue=key, delta=delta, by=by))
                return f"{label} priority {'raised' if delta > 0 else 'lowered'} (bump {task.overrides.bump + delta:+d})"
            case cmd.Pin(pinned=pinned):
                self.push(ev.IssuePinned(ts=now, issue=key, pinned=pinned, by=by))
                return f"{label} {'pinned to the top' if pinned else 'unpinned'}"
            case cmd.Requeue():
                if task.state not in (TaskState.FAILED, TaskState.CANCELLED):
                    raise ValueError(f"{label} is {task.state.value}: only failed or cancelled issues can be requeued")
                self.push(ev.IssueRequeued(ts=now, issue=key, by=by))
                return f"{label} requeued"
            case cmd.Cancel():
                if task.state is not TaskState.RUNNING:
                    raise ValueError(f"{label} is {task.state.value}: only a running session can be cancelled")
                self.push(ev.CancelRequested(ts=now, issue=key, by=by))
                return f"cancelling {label}"
        raise ValueError(f"unknown command {type(command).__name__}")
