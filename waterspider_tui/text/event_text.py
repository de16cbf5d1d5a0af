"""One readable line per event, shared by `--no-ui` and the control center's event log."""

from __future__ import annotations

import re
import time
from typing import Callable

from waterspider_tui.core import events as ev
from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.models import ErrorClass

KeyFormat = Callable[[str], str]


def _short(key: str) -> str:
    return "#" + key.rpartition("#")[2]


def duration(seconds: float | None) -> str:
    """`45s`, `12m`, `1h05m`, `2d03h`; `–` when unknown."""
    if seconds is None or seconds < 0:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def _local_time(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _money(value: float) -> str:
    return f"${value:.2f}"


_ROUND = re.compile(r"\(round (?P<number>\d+) of (?P<of>\d+)\)")


def step_error(error: str) -> str:
    """A failed step's error with its name said once: 'gate: gate failed: tests' reads 'gate failed: tests'."""
    step, _, rest = error.partition(": ")
    return rest if step and rest.startswith(f"{step} failed") else error


def describe(event: ev.Event, key: KeyFormat = _short) -> str | None:
    """The line for an event, or None for events too chatty to print (host probes)."""
    match event:
        case ev.IssueSeen(issue_data=issue):
            state = " (closed)" if issue.closed else ""
            return f"{key(issue.key)} seen: {issue.title}{state}"
        case ev.IssueGone(issue=issue, reason=reason):
            return f"{key(issue)} left the queue: {reason}"
        case ev.IssueRejected(error=error):
            return f"skipped: {error}"
        case ev.IssueHeld(issue=issue, reason=reason):
            return f"{key(issue)} held: {reason}" if reason else f"{key(issue)} no longer held"
        case ev.BlockersConflicted(issue=issue, reason=reason):
            return f"{key(issue)} held: {reason}" if reason else f"{key(issue)} no longer held: its blockers' work merges now"
        case ev.Warned(message=message, notice=True):
            return message
        case ev.Warned(message=message):
            return f"warning: {message}"
        case ev.SessionStarted(issue=issue, session=session):
            return f"{key(issue)} started: attempt {session.attempt}, {session.agent} on {session.host}, {session.branch}"
        case ev.SessionSpawned(issue=issue, external_id=run_id, external_url=url, reattached=reattached) if run_id:
            return f"{key(issue)} found run {run_id} again: {url}" if reattached else f"{key(issue)} is run {run_id}: {url}"
        case ev.SessionSpawned(issue=issue, pid=pid, reattached=reattached):
            return f"{key(issue)} reattached to pid {pid}" if reattached else f"{key(issue)} agent running (pid {pid})"
        case ev.SessionProgressed(issue=issue, progress=progress):
            steps = f" {progress.phases_done}/{progress.phases_total}" if progress.phases_total else ""
            # A command agent's last line is both its phase and its last activity: told once.
            activity = progress.last_activity if progress.last_activity != progress.phase else ""
            return f"{key(issue)} {progress.phase}{steps}: {activity}" if activity else f"{key(issue)} {progress.phase}{steps}"
        case ev.SessionFinished(issue=issue, result=result):
            figures = f"{duration(result.duration_s)}, {_money(result.cost_usd)}, {result.turns} turns, {result.commits} commit{'s' if result.commits != 1 else ''}"
            if result.outcome.value == "succeeded":
                return f"{key(issue)} succeeded after {figures}"
            if result.outcome.value == "cancelled":
                return f"{key(issue)} cancelled ({result.error or 'by operator'}) after {figures}"
            if result.error_class is ErrorClass.LOST:
                return f"{key(issue)} will start again: {result.error or 'its agent never started'} (not counted as an attempt)"
            if result.error_class is ErrorClass.GATE_FAILED and event.will_retry:
                # A round of the gate, not the issue's end: the work goes back to the agent where it is.
                # The gate's own line just said what failed; this one says which round it was.
                round_ = _ROUND.search(result.error)
                said = f" (round {round_['number']} of {round_['of']})" if round_ else (f" ({step_error(result.error)})" if result.error else "")
                return f"{key(issue)} gate failed after {figures}: sent back to the agent{said}"
            error_class = result.error_class.value if result.error_class else "failed"
            advice = advice_for(result.error_class, will_retry=event.will_retry, limit=event.limit, host_wide=event.host_wide)
            detail = f": {step_error(result.error)}" if result.error else ""
            return f"{key(issue)} failed ({error_class}){detail} after {figures}" + (f" — {advice}" if advice else "")
        case ev.StepFinished(issue=issue, step=step, ok=ok, summary=summary) if not ok or step != "commits":
            # Counting commits is every session's first step; its figure is in the "finished" line.
            if ok:
                return f"{key(issue)} {step}: {summary or 'done'}"
            # The gate's summary names the step itself ("gate failed: ..."): said once.
            return f"{key(issue)} {summary}" if summary.startswith(f"{step} failed") else f"{key(issue)} {step} failed: {summary}"
        case ev.HostDrained(host=host, by=by):
            return f"{host} drained by {by}: no new sessions there"
        case ev.HostRestored(host=host, by=by):
            return f"{host} takes new sessions again ({by})"
        case ev.SessionDetached(issue=issue):
            return f"{key(issue)} left running, to be reattached on the next start"
        case ev.RetryScheduled(error_class=ErrorClass.LOST.value | ErrorClass.GATE_FAILED.value):
            return None  # its "starts again" or "sent back to the agent" line said it
        case ev.RetryScheduled(issue=issue, error_class=error_class, not_before=not_before):
            return f"{key(issue)} will retry ({error_class}) after {max(0.0, not_before - event.ts):.0f}s"
        case ev.DispatcherPaused(by=by, reason=reason, until=until):
            until_text = f" until {_local_time(until)}" if until else ""
            return f"dispatch paused by {by}{until_text}" + (f": {reason}" if reason else "")
        case ev.DispatcherResumed(by=by):
            return f"dispatch resumed by {by}"
        case ev.IssuePaused(issue=issue, by=by):
            return f"{key(issue)} paused by {by}"
        case ev.IssueResumed(issue=issue, by=by):
            return f"{key(issue)} resumed by {by}"
        case ev.PriorityBumped(issue=issue, delta=delta, by=by):
            return f"{key(issue)} bumped {delta:+d} by {by}"
        case ev.IssuePinned(issue=issue, pinned=pinned, by=by):
            return f"{key(issue)} {'pinned' if pinned else 'unpinned'} by {by}"
        case ev.IssueRequeued(issue=issue, by=by):
            return f"{key(issue)} requeued by {by}"
        case ev.CancelRequested(issue=issue, by=by):
            return f"{key(issue)} cancel requested by {by}"
        case ev.MilestoneIntegrated() | ev.MilestoneConflict() | ev.MilestoneBlocked():
            return event.summary or f"milestone {event.milestone}: {event.type.removeprefix('milestone_')}"
        case ev.PullRequestMerged(issue=issue, number=number):
            return f"{key(issue)} pull request #{number} merged"
        case ev.MilestoneClosed(milestone=milestone, number=number, pull_request=pull):
            return f"milestone {milestone} (#{number}) closed: its integration pull request #{pull} was merged"
        case ev.SourcePolled(source=source, ok=ok, message=message, wait_until=wait_until):
            if wait_until:
                return f"{source}: rate limited, waiting until {_local_time(wait_until)}"
            return f"{source}: {'ok' if ok else 'poll failed'}" + (f" ({message})" if message else "")
    return None
