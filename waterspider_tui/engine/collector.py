"""Turns a source's poll into events: new and changed issues, gone ones, rejections, holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState

if TYPE_CHECKING:
    from waterspider_tui.adapters.source_base import PollResult
    from waterspider_tui.core.state import Snapshot

GONE_REASON = "closed or no longer labeled for work"


def poll_events(snapshot: Snapshot, repos: tuple[str, ...], result: PollResult, now: float) -> list[ev.Event]:
    """Only differences become events, so an unchanged poll writes nothing but its status.

    An issue's trust decision (held or not) goes in the same batch as its first sighting: the
    scheduler never sees a new issue without it, so an untrusted one cannot slip through on the
    first poll after a start.
    """
    if not result.ok:
        return []
    events: list[ev.Event] = []
    # An issue whose file or text cannot be read now is not gone: it keeps its last good state.
    offered = {rejection.issue_key for rejection in result.rejected if rejection.issue_key}
    for issue in result.issues:
        offered.add(issue.key)
        task = snapshot.tasks.get(issue.key)
        if task is None or task.issue != issue:
            events.append(ev.IssueSeen(ts=now, issue_data=issue))
        reason = result.held.get(issue.key, "")
        if (task.held_reason if task is not None else "") != reason:
            events.append(ev.IssueHeld(ts=now, issue=issue.key, reason=reason))
    for key, task in snapshot.tasks.items():
        if task.issue.repo not in repos or key in offered:
            continue
        if task.state in (TaskState.QUEUED, TaskState.RUNNING) and not task.issue.closed:
            events.append(ev.IssueGone(ts=now, issue=key, reason=GONE_REASON))
    for rejection in result.rejected:
        if snapshot.rejected.get(rejection.path) != rejection.error:
            events.append(ev.IssueRejected(ts=now, path=rejection.path, error=rejection.error, issue=rejection.issue_key))
    known = set(snapshot.warnings)
    for warning in getattr(result, "warnings", ()):
        if warning not in known:
            events.append(ev.Warned(ts=now, message=warning))
    return events
