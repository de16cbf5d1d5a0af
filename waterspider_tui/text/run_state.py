"""Where the run stands, in the words the header, `status` and `--no-ui` share: dispatching,
paused, waiting for a retry, nothing can start, finished (some failed), all done; and how the issue sources' polls go."""

from __future__ import annotations

import math
from dataclasses import dataclass

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.scheduler import Plan
from waterspider_tui.core.state import Snapshot
from waterspider_tui.text.event_text import describe, duration

DISPATCHING = "dispatching"
PAUSED = "paused"
WAITING = "waiting"
"""Nothing runs and nothing is ready, but a retry or a rate-limit reset will start something."""
STUCK = "stuck"
"""Nothing runs, nothing is ready and nothing will be by itself: every open issue is blocked."""
ALL_DONE = "all done"
"""Nothing is left to do, and every issue succeeded (or was closed upstream)."""
FINISHED = "finished"
"""Nothing is left to do, but some issues failed or were cancelled (requeue them to go on)."""
NO_ISSUES = "no issues"
NO_ANSWER = "no answer"
"""No issue is known and a source's polls have only failed: whether there is work is not known."""


@dataclass(frozen=True)
class RunState:
    """The run's state as one word with a mark, and a short explanation."""

    word: str
    """One of the constants above."""
    detail: str = ""

    @property
    def mark(self) -> str:
        return {DISPATCHING: "●", PAUSED: "‖", WAITING: "◌", STUCK: "◌", ALL_DONE: "✔", FINISHED: "■", NO_ISSUES: "○", NO_ANSWER: "?"}[self.word]


def run_state(snapshot: Snapshot, plan: Plan, now: float) -> RunState:
    """What the run is doing right now, judged from the snapshot and its plan."""
    if snapshot.dispatcher_paused and not (snapshot.paused_until and snapshot.paused_until <= now):
        return RunState(PAUSED, snapshot.pause_reason or "paused")
    if plan.running or plan.ready:
        return RunState(DISPATCHING)
    if not snapshot.tasks:
        if any(not status.ok and name not in snapshot.sources_ok_at for name, status in snapshot.sources.items()):
            return RunState(NO_ANSWER, "no source has answered yet")
        return RunState(NO_ISSUES, "waiting for the first poll" if not snapshot.sources else "")
    retries = [snapshot.tasks[item.issue].not_before or now for item in plan.blocked if item.reason == "retry_wait"]
    if retries:
        return RunState(WAITING, f"next retry in {duration(min(retries) - now)}")
    if plan.blocked:
        count = len(plan.blocked)
        return RunState(STUCK, f"nothing can start: {count} blocked")
    failed = len(snapshot.tasks_in(TaskState.FAILED))
    cancelled = len(snapshot.tasks_in(TaskState.CANCELLED))
    if failed or cancelled:
        return RunState(FINISHED, ", ".join(part for part in (f"{failed} failed" if failed else "", f"{cancelled} cancelled" if cancelled else "") if part))
    return RunState(ALL_DONE)


@dataclass(frozen=True)
class PollTrouble:
    """A source whose last poll failed: why, when it is tried again, and its last good poll."""

    source: str
    message: str
    retry_at: float | None
    last_ok_at: float | None

    def text(self, now: float) -> str:
        """`github:acme/widgets: poll failed (timeout), retry in 8s, last good poll 3m ago`."""
        parts = [f"{self.source}: poll failed" + (f" ({self.message})" if self.message else "")]
        if self.retry_at is not None:
            # Rounded up: "retry in 1s" for 1.9 s would come before the retry does.
            parts.append(f"retry in {duration(math.ceil(self.retry_at - now))}" if self.retry_at > now else "retrying now")
        parts.append(f"last good poll {duration(now - self.last_ok_at)} ago" if self.last_ok_at else "no good poll yet")
        return ", ".join(parts)


def poll_troubles(snapshot: Snapshot) -> list[PollTrouble]:
    """Every source whose latest poll failed, in source order."""
    return [
        PollTrouble(name, status.message, status.next_poll, snapshot.sources_ok_at.get(name))
        for name, status in sorted(snapshot.sources.items())
        if not status.ok
    ]


def poll_line(event: ev.SourcePolled, previous: ev.SourcePolled | None, last_ok_at: float | None) -> str | None:
    """The `--no-ui` line for a poll, or None for a routine good one.

    Every failed poll gets a line (with the retry time and the last good poll's age); the first
    poll, the first good one after failures, and a rate-limit wait that starts or changes get one.
    """
    now = event.ts
    if not event.ok:
        return PollTrouble(event.source, event.message, event.next_poll, last_ok_at).text(now)
    if previous is not None and not previous.ok:
        down = f" (no good poll for {duration(now - last_ok_at)})" if last_ok_at else ""
        return f"{event.source}: polling works again{down}"
    if previous is None or (event.wait_until and event.wait_until != previous.wait_until):
        return describe(event)
    return None


def left_running_text(count: int, reattach: str) -> str:
    """What to do about sessions left running when the orchestrator stops: the command that reattaches."""
    sessions = "1 session is" if count == 1 else f"{count} sessions are"
    how = f"run `{reattach}` again" if reattach else "start waterspider again in this folder"
    return f"{sessions} still running, to be reattached: {how}"


__all__ = ["ALL_DONE", "DISPATCHING", "FINISHED", "NO_ANSWER", "NO_ISSUES", "PAUSED", "PollTrouble", "RunState", "STUCK", "WAITING", "left_running_text", "poll_line", "poll_troubles", "run_state"]
