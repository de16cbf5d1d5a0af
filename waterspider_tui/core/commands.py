"""What an operator (or a front end) asks the engine to do, and the rules that turn it into events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import Snapshot, TaskRecord


@dataclass(frozen=True)
class Command:
    by: str = "operator"


@dataclass(frozen=True)
class PauseDispatcher(Command):
    reason: str = ""


@dataclass(frozen=True)
class ResumeDispatcher(Command):
    pass


@dataclass(frozen=True)
class PauseIssue(Command):
    issue: str = ""


@dataclass(frozen=True)
class ResumeIssue(Command):
    issue: str = ""


@dataclass(frozen=True)
class Bump(Command):
    issue: str = ""
    delta: int = 1


@dataclass(frozen=True)
class Pin(Command):
    issue: str = ""
    pinned: bool = True


@dataclass(frozen=True)
class Requeue(Command):
    issue: str = ""


@dataclass(frozen=True)
class Cancel(Command):
    issue: str = ""


@dataclass(frozen=True)
class DrainHost(Command):
    """No new sessions on the host; the running ones finish."""

    host: str = ""


@dataclass(frozen=True)
class RestoreHost(Command):
    host: str = ""


@dataclass(frozen=True)
class Refresh(Command):
    """Poll the sources now instead of at the next interval."""


def resolve_issue(snapshot: Snapshot, key: str) -> TaskRecord:
    """The task a command names: its key, or `12` / `#12` for issue 12 of the only repository."""
    task = snapshot.tasks.get(key)
    if task is None:
        number = key.lstrip("#")
        matches = [k for k in snapshot.tasks if k.endswith(f"#{number}")] if number.isdigit() else []
        task = snapshot.tasks.get(matches[0]) if len(matches) == 1 else None
    if task is None:
        raise ValueError(f"no issue {key or '(none selected)'}")
    return task


def short_key(key: str) -> str:
    """`#12` for `owner/name#12`: how an issue is named when there is only one repository."""
    return "#" + key.rpartition("#")[2]


def apply_command(
    snapshot: Snapshot, command: Command, now: float, *, display_key: Callable[[str], str] = short_key, hosts: Collection[str] = (),
) -> tuple[list[ev.Event], str]:
    """The operator's rules: the events a valid command becomes, and its one-line confirmation.

    Raises ValueError with a one-line reason when the command does not apply (a requeue of a
    running issue, a cancel of a queued one, an unknown issue). The engine and every test
    double use this one function, so a front end shows the real texts. `hosts`: the configured
    hosts, which can be drained before their first probe puts them in the snapshot.
    """
    by = command.by
    match command:
        case PauseDispatcher(reason=reason):
            if snapshot.dispatcher_paused:
                raise ValueError("dispatch is already paused")
            return [ev.DispatcherPaused(ts=now, by=by, reason=reason)], "dispatch paused: running sessions go on, no new ones start"
        case ResumeDispatcher():
            if not snapshot.dispatcher_paused:
                raise ValueError("dispatch is not paused")
            return [ev.DispatcherResumed(ts=now, by=by)], "dispatch resumed"
        case Refresh():
            return [], "polling the sources now"
        case DrainHost(host=host):
            if host not in snapshot.hosts and host not in hosts:
                raise ValueError(f"no host {host or '(none selected)'}")
            if host in snapshot.draining:
                raise ValueError(f"{host} is already drained")
            running = sum(1 for task in snapshot.running() if task.session is not None and task.session.host == host)
            return [ev.HostDrained(ts=now, host=host, by=by)], f"{host} drained: no new sessions there" + (f", its {running} running go on" if running else "")
        case RestoreHost(host=host):
            if host not in snapshot.draining:
                raise ValueError(f"{host} is not drained")
            return [ev.HostRestored(ts=now, host=host, by=by)], f"{host} takes new sessions again"
    task = resolve_issue(snapshot, getattr(command, "issue", ""))
    key, label = task.key, display_key(task.key)
    match command:
        case PauseIssue():
            if task.overrides.paused:
                raise ValueError(f"{label} is already paused")
            running = " (its running session goes on)" if task.state is TaskState.RUNNING else ""
            return [ev.IssuePaused(ts=now, issue=key, by=by)], f"{label} paused{running}"
        case ResumeIssue():
            if not task.overrides.paused:
                raise ValueError(f"{label} is not paused")
            return [ev.IssueResumed(ts=now, issue=key, by=by)], f"{label} resumed"
        case Bump(delta=delta):
            if task.state.is_final:
                raise ValueError(f"{label} is {task.state.value}; requeue it first")
            direction = "raised" if delta > 0 else "lowered"
            return [ev.PriorityBumped(ts=now, issue=key, delta=delta, by=by)], f"{label} priority {direction} (bump {task.overrides.bump + delta:+d})"
        case Pin(pinned=pinned):
            return [ev.IssuePinned(ts=now, issue=key, pinned=pinned, by=by)], f"{label} {'pinned to the top' if pinned else 'unpinned'}"
        case Requeue():
            if task.state not in (TaskState.FAILED, TaskState.CANCELLED):
                raise ValueError(f"{label} is {task.state.value}: only failed or cancelled issues can be requeued")
            return [ev.IssueRequeued(ts=now, issue=key, by=by)], f"{label} requeued"
        case Cancel():
            if task.state is not TaskState.RUNNING:
                raise ValueError(f"{label} is {task.state.value}: only a running session can be cancelled")
            return [ev.CancelRequested(ts=now, issue=key, by=by)], f"cancelling {label}"
    raise ValueError(f"unknown command {type(command).__name__}")
