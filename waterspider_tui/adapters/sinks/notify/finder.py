"""Stored events (and the snapshot) turned into notices: failures for good, pauses, hosts, milestones, idle."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from waterspider_tui.adapters.sinks.notify.notices import ALL_KINDS, Notice, NoticeKind
from waterspider_tui.core import events as ev
from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.milestones import DoneWhen, completed_by, milestone_progress, milestones_of
from waterspider_tui.core.models import Outcome, TaskState
from waterspider_tui.core.readiness import short_key

if TYPE_CHECKING:
    from waterspider_tui.core.milestones import MilestoneProgress
    from waterspider_tui.core.state import Snapshot

OPERATOR_BY = frozenset({"operator", "command line"})
"""`DispatcherPaused.by` / `DispatcherResumed.by` of the operator's own pause and resume: not news to them.
Every other pause (limit, budget, host failure, host check, hosts down) and its end is told."""
CYCLE_WARNING = "dependency cycle"
REUSED = "(already up to date)"
"""In a `MilestoneIntegrated` summary: the integration branch was already at the same head."""


class NoticeFinder:
    """Turns a batch of stored events into notices, with the snapshot for context.

    Holds only what the events cannot say: which hosts it last saw unreachable (host probes are
    mostly not stored; the sink recalls what the log says it told before), and which milestone
    completions it already told in this process.
    """

    def __init__(self, kinds: Iterable[NoticeKind | str] = ALL_KINDS, *, done_when: DoneWhen = "succeeded") -> None:
        self.kinds = frozenset(NoticeKind(kind) for kind in kinds)
        self.done_when: DoneWhen = done_when
        self._reachable: dict[str, bool] = {}
        self._told_complete: set[tuple[str, str, tuple[str, ...]]] = set()
        self._idle_told_after = 0
        """The seq of the session end after which the run was last told idle."""

    def wants(self, event: ev.Event) -> bool:
        """Whether the event can make a notice of an enabled kind."""
        kinds = self.kinds
        match event:
            case ev.SessionFinished():
                return bool(kinds & {NoticeKind.FAILED, NoticeKind.OPERATOR, NoticeKind.MILESTONE, NoticeKind.IDLE})
            case ev.IssueHeld(reason=reason):
                return NoticeKind.OPERATOR in kinds and bool(reason)
            case ev.Warned(message=message):
                return NoticeKind.OPERATOR in kinds and message.startswith(CYCLE_WARNING)
            case ev.MilestoneIntegrated() | ev.MilestoneConflict() | ev.MilestoneBlocked() | ev.MilestoneClosed():
                return NoticeKind.MILESTONE in kinds
            case ev.DispatcherPaused() | ev.DispatcherResumed():
                return NoticeKind.PAUSED in kinds
            case ev.HostProbed():
                return NoticeKind.HOST_DOWN in kinds
            case ev.IssueGone():
                return NoticeKind.MILESTONE in kinds and self.done_when == "closed"
            case ev.IssueSeen(issue_data=issue):
                return NoticeKind.MILESTONE in kinds and self.done_when == "closed" and issue.closed
        return False

    def find(self, events: Sequence[ev.Event], snapshot: Snapshot) -> list[Notice]:
        """Notices of the enabled kinds for these events, in the order they happened."""
        found: list[Notice] = []
        for event in events:
            found.extend(self._of_event(event, snapshot))
        if NoticeKind.MILESTONE in self.kinds:
            found.extend(self._milestones(events, snapshot))
        if NoticeKind.HOST_DOWN in self.kinds:
            found.extend(self._hosts_in(snapshot))
        if NoticeKind.IDLE in self.kinds:
            found.extend(self._idle(events, snapshot))
        return [notice for notice in found if notice.kind in self.kinds]

    def _of_event(self, event: ev.Event, snapshot: Snapshot) -> list[Notice]:
        match event:
            case ev.SessionFinished() if _fails_for_good(event):
                return [_failure(event, snapshot)]
            case ev.IssueHeld(issue=key, reason=reason) if reason:
                task = snapshot.tasks.get(key)
                label, title, url = _issue_parts(key, snapshot)
                return [Notice(f"{event.seq}:held", NoticeKind.OPERATOR, event.ts, event.seq, label, f"{title}: held, {reason}", url, "warning", needs_operator=task is not None)]
            case ev.Warned(message=message) if message.startswith(CYCLE_WARNING):
                return [Notice(f"{event.seq}:cycle", NoticeKind.OPERATOR, event.ts, event.seq, "cycle", message, severity="warning", needs_operator=True)]
            case ev.MilestoneIntegrated(summary=summary, published=published) if REUSED in summary and event.ok and not published:
                return []  # integrated again at the same head (a restart): nothing new to tell
            case ev.MilestoneIntegrated() | ev.MilestoneConflict() | ev.MilestoneBlocked():
                return [_integration_notice(event)]
            case ev.MilestoneClosed(milestone=milestone, pull_request=pull):
                return [Notice(f"{event.seq}:milestone-closed", NoticeKind.MILESTONE, event.ts, event.seq, milestone,
                               f"closed: integration pull request #{pull} merged", severity="info")]
            case ev.DispatcherPaused(by=by, reason=reason, until=until) if by not in OPERATOR_BY:
                text = f"paused ({by}): {reason or 'no reason given'}"
                if until:
                    text += f"; resumes at {_clock_time(until)}"
                return [Notice(f"{event.seq}:paused", NoticeKind.PAUSED, event.ts, event.seq, "dispatch", text, severity="warning", needs_operator=until is None)]
            case ev.DispatcherResumed(by=by) if by not in OPERATOR_BY:
                return [Notice(f"{event.seq}:resumed", NoticeKind.PAUSED, event.ts, event.seq, "dispatch", f"resumed ({by})", severity="info")]
            case ev.HostProbed(host=host):
                return self._host_change(host.name, host.reachable, host.error, event.ts, event.seq)
        return []

    def recall_hosts(self, last_told: Mapping[str, bool]) -> None:
        """What the channel last said about each host (reachable or not) before this process: a
        host told unreachable then is told reachable again once it answers, and not told down twice."""
        for name, reachable in last_told.items():
            self._reachable.setdefault(name, reachable)

    def _host_change(self, name: str, reachable: bool, error: str, ts: float, seq: int) -> list[Notice]:
        before = self._reachable.get(name)
        self._reachable[name] = reachable
        key = f"{seq}:host:{name}" if seq else f"host:{name}:{ts}"
        if not reachable and before is not False:
            why = error.removeprefix(f"{name}: ") or "no answer"  # the host is the notice's label already
            return [Notice(f"{key}:down", NoticeKind.HOST_DOWN, ts, seq, name, f"unreachable: {why}", severity="error", needs_operator=True)]
        if reachable and before is False:
            return [Notice(f"{key}:up", NoticeKind.HOST_DOWN, ts, seq, name, "reachable again", severity="info")]
        return []

    def _hosts_in(self, snapshot: Snapshot) -> list[Notice]:
        """Reachability changes the snapshot shows (probes the engine did not store), seen at delivery."""
        found: list[Notice] = []
        for name, host in sorted(snapshot.hosts.items()):
            found.extend(self._host_change(name, host.reachable, host.error, host.probed_at or snapshot.now, 0))
        return found

    def _milestones(self, events: Sequence[ev.Event], snapshot: Snapshot) -> list[Notice]:
        ended = [event for event in events if _ends_work(event, self.done_when)]
        failures = [event for event in events if isinstance(event, ev.SessionFinished) and _fails_for_good(event)]
        if not ended and not failures:
            return []
        keys = {str(event.issue_key) for event in ended + failures}
        touched = milestones_of(snapshot, keys)
        failed_keys = {event.issue for event in failures}
        found: list[Notice] = []
        for progress in milestone_progress(snapshot, done_when=self.done_when):
            for event in ended:
                signature = (progress.repo, progress.name, progress.done)
                if (progress.repo, progress.name) in touched and completed_by(snapshot, progress, str(event.issue_key)) and signature not in self._told_complete:
                    self._told_complete.add(signature)
                    found.append(_milestone_notice(progress, event, f"complete: {progress.total} issue{'s' if progress.total != 1 else ''} done", "info"))
            blockers = failed_keys & set(progress.blocking)
            if blockers:
                event = next(item for item in failures if item.issue in blockers)
                names = ", ".join(short_key(key, progress.repo) for key in sorted(blockers))
                found.append(_milestone_notice(progress, event, f"blocked by {names}: {progress.summary().partition(': ')[2]}", "warning"))
        return found

    def _idle(self, events: Sequence[ev.Event], snapshot: Snapshot) -> list[Notice]:
        last_end = max((event.seq for event in events if isinstance(event, ev.SessionFinished)), default=0)
        if last_end <= self._idle_told_after or not _is_idle(snapshot):
            return []
        self._idle_told_after = last_end
        finished = snapshot.tasks_in(TaskState.SUCCEEDED)
        failed = snapshot.tasks_in(TaskState.FAILED)
        waiting = snapshot.tasks_in(TaskState.QUEUED)
        spent = sum(snapshot.spend_by_day.values())
        text = f"nothing left to run: {len(finished)} succeeded, {len(failed)} failed, {len(waiting)} waiting; ${spent:.2f} spent"
        details = tuple(f"failed: {_issue_parts(task.key, snapshot)[0]} {task.issue.title}" for task in sorted(failed, key=lambda task: task.key)[:20])
        ts = snapshot.now
        return [Notice(f"{last_end}:idle", NoticeKind.IDLE, ts, last_end, "run", text, severity="info", details=details)]


def _fails_for_good(event: ev.SessionFinished) -> bool:
    """A failure the operator must hear about: not retried by itself, not a host-wide one
    (that pauses dispatch, which is announced once by DispatcherPaused)."""
    return event.result.outcome is Outcome.FAILED and not (event.will_retry or event.host_wide or event.limit)


def _ends_work(event: ev.Event, done_when: DoneWhen) -> bool:
    if done_when == "closed":
        return isinstance(event, ev.IssueGone) or isinstance(event, ev.IssueSeen) and event.issue_data.closed
    return isinstance(event, ev.SessionFinished) and event.result.outcome is Outcome.SUCCEEDED


def _failure(event: ev.SessionFinished, snapshot: Snapshot) -> Notice:
    result = event.result
    label, title, url = _issue_parts(event.issue, snapshot)
    cause = result.error_class.value if result.error_class else "failed"
    hint = f"{cause}: {advice_for(result.error_class)}"
    return Notice(f"{event.seq}:failed", NoticeKind.FAILED, event.ts, event.seq, label, f"{title}: {cause}", url, "error", needs_operator=True, hint=hint)


def _integration_notice(event: ev.MilestoneIntegrated | ev.MilestoneConflict | ev.MilestoneBlocked) -> Notice:
    """What the integrator did; a conflict, a failed gate or a blocked build needs the operator, unless
    the conflict went back to its issue's agent (`requeue_rebased`)."""
    trouble = not (isinstance(event, ev.MilestoneIntegrated) and event.ok)
    handed_back = isinstance(event, ev.MilestoneConflict) and event.requeued
    text = event.summary.removeprefix(f"milestone {event.milestone}: ") or event.type.removeprefix("milestone_")
    return Notice(f"{event.seq}:integration", NoticeKind.MILESTONE, event.ts, event.seq, event.milestone, text,
                  severity="warning" if trouble else "info", needs_operator=trouble and not handed_back)


def _milestone_notice(progress: MilestoneProgress, event: ev.Event, text: str, severity: str) -> Notice:
    return Notice(f"{event.seq}:milestone:{progress.repo}:{progress.name}", NoticeKind.MILESTONE, event.ts, event.seq, progress.name, text, severity=severity)


def _issue_parts(key: str, snapshot: Snapshot) -> tuple[str, str, str]:
    """(label, title, url) of an issue: `#12` when every issue is of one repository."""
    task = snapshot.tasks.get(key)
    repos = {item.issue.repo for item in snapshot.tasks.values()}
    repo = key.rpartition("#")[0]
    label = short_key(key, repo) if len(repos) <= 1 else key
    if task is None:
        return label, "", ""
    return label, task.issue.title, task.issue.url


def _is_idle(snapshot: Snapshot) -> bool:
    """Nothing runs and nothing will start by itself: every open issue waits on the operator
    (held, paused) or on a dependency that will not finish. A paused dispatcher is told as a
    pause, not as idle."""
    if snapshot.running() or snapshot.dispatcher_paused:
        return False
    for task in snapshot.tasks_in(TaskState.QUEUED):
        if task.held_reason or task.overrides.paused:
            continue
        if all(_dep_done(snapshot, task.issue.external_open, dep) for dep in task.deps):
            return False  # ready now, or after its retry's backoff
    return True


def _dep_done(snapshot: Snapshot, external_open: tuple[str, ...], dep: str) -> bool:
    record = snapshot.tasks.get(dep)
    if record is None:
        return dep not in external_open
    return record.state in (TaskState.SUCCEEDED, TaskState.GONE) or record.issue.closed


def _clock_time(ts: float) -> str:
    return time.strftime("%H:%M UTC", time.gmtime(ts))
