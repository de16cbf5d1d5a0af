"""Turns a source's poll into events: new and changed issues, gone ones, rejections, holds."""

from __future__ import annotations

from waterspider_tui.adapters.source_base import PollResult
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import Snapshot

GONE_REASON = "closed or no longer labeled for work"


def poll_events(snapshot: Snapshot, repos: tuple[str, ...], result: PollResult, now: float) -> list[ev.Event]:
    """Only differences become events, so an unchanged poll writes nothing but its status."""
    if not result.ok:
        return []
    events: list[ev.Event] = []
    offered = set()
    for issue in result.issues:
        offered.add(issue.key)
        task = snapshot.tasks.get(issue.key)
        if task is None or task.issue != issue:
            events.append(ev.IssueSeen(ts=now, issue_data=issue))
    for key, task in snapshot.tasks.items():
        if task.issue.repo not in repos or key in offered:
            continue
        if task.state in (TaskState.QUEUED, TaskState.RUNNING):
            events.append(ev.IssueGone(ts=now, issue=key, reason=GONE_REASON))
    for rejection in result.rejected:
        if snapshot.rejected.get(rejection.path) != rejection.error:
            events.append(ev.IssueRejected(ts=now, path=rejection.path, error=rejection.error, issue=rejection.issue_key))
    for key, reason in result.held.items():
        task = snapshot.tasks.get(key)
        if task is not None and task.held_reason != reason:
            events.append(ev.IssueHeld(ts=now, issue=key, reason=reason))
    for key, task in snapshot.tasks.items():
        if task.held_reason and task.issue.repo in repos and key not in result.held and key in offered:
            events.append(ev.IssueHeld(ts=now, issue=key, reason=""))
    return events
