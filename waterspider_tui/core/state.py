"""The immutable Snapshot and the pure reducer that folds events into it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Iterable, Mapping

from waterspider_tui.core import events as ev
from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.dag import parse_references
from waterspider_tui.core.models import (
    ErrorClass, HostStatus, Issue, Outcome, Overrides, SessionInfo, SessionResult, TaskState,
)

RECENT_EVENTS_KEPT = 200
WARNINGS_KEPT = 100
HOST_HISTORY_KEPT = 60


@dataclass(frozen=True)
class Attempt:
    """One finished session of an issue, for the detail view and reports."""

    session_id: str
    attempt: int
    outcome: Outcome
    error_class: ErrorClass | None
    error: str
    cost_usd: float
    duration_s: float
    log_path: str
    host: str
    agent_ran: bool = True
    """False for an attempt lost before its agent started: it does not count against max_attempts."""
    executor: str = ""
    session_dir: str = ""
    worktree: str = ""
    branch: str = ""
    agent: str = ""
    will_retry: bool = False
    """The retry policy sent the issue round again after this attempt (its advice says so)."""
    host_wide: bool = False
    """It failed for the host, not the issue: dispatch paused, the attempt not charged."""
    agent_session_id: str = ""
    """The agent's conversation it ran in (a retry or a gate round resumes the one before)."""

    def advice(self) -> str:
        """What happens next, or what the operator can do, after this attempt's failure."""
        return advice_for(self.error_class, will_retry=self.will_retry and not self.host_wide, host_wide=self.host_wide)


@dataclass(frozen=True)
class TaskRecord:
    """Everything known about one issue's work."""

    issue: Issue
    state: TaskState
    deps: tuple[str, ...]
    """Issue keys this task waits on: the source's explicit edges plus body references."""
    overrides: Overrides = Overrides()
    attempts: int = 0
    session: SessionInfo | None = None
    """The live session, or the last one once finished."""
    result: SessionResult | None = None
    history: tuple[Attempt, ...] = ()
    first_seen: float = 0.0
    finished_at: float | None = None
    not_before: float | None = None
    """A retry waits until then (backoff)."""
    resume_agent_session: str = ""
    cancel_requested: bool = False
    held_reason: str = ""
    """Non-empty while the source holds the issue back (untrusted label or edit)."""
    blockers_conflict: ev.BlockersConflicted | None = None
    """Set while its blockers' work conflicts: held, no session started, until they merge cleanly."""
    rework_note: str = ""
    """Why a succeeded issue was sent back (a milestone conflict to resolve): follows its agent's next prompt."""
    reworks: int = 0
    """How many times a milestone conflict sent it back."""
    pr_merged: bool = False
    """Its pull request was merged (dependants waiting for merges may start)."""

    @property
    def key(self) -> str:
        return self.issue.key


@dataclass(frozen=True)
class Snapshot:
    """The whole state at one point of the event log; never mutated."""

    seq: int = 0
    now: float = 0.0
    tasks: Mapping[str, TaskRecord] = field(default_factory=lambda: MappingProxyType({}))
    hosts: Mapping[str, HostStatus] = field(default_factory=lambda: MappingProxyType({}))
    rejected: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Source path -> why it was skipped, for files and bodies that could not be read."""
    rejected_issues: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Issue key -> the source path of its file that could not be read (`rejected` says why), until it reads again."""
    dispatcher_paused: bool = False
    pause_reason: str = ""
    paused_until: float | None = None
    paused_by: str = ""
    draining: frozenset[str] = frozenset()
    """Hosts the operator drained: no new sessions go there."""
    warnings: tuple[str, ...] = ()
    spend_by_day: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """UTC date (YYYY-MM-DD) -> dollars spent by sessions that finished that day."""
    sources: Mapping[str, ev.SourcePolled] = field(default_factory=lambda: MappingProxyType({}))
    sources_ok_at: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """Source -> when its last good poll ended, so a failing source can say how stale its list is."""
    recent: tuple[ev.Event, ...] = ()
    """The latest events, newest last, for the event log panel."""
    integrations: Mapping[tuple[str, str], ev.MilestoneIntegrated | ev.MilestoneConflict | ev.MilestoneBlocked] = field(
        default_factory=lambda: MappingProxyType({}))
    """(repo, milestone) -> the integrator's latest word on it."""
    milestones_closed: Mapping[tuple[str, str], int] = field(default_factory=lambda: MappingProxyType({}))
    """(repo, milestone) -> the merged integration pull request that closed it on GitHub."""

    def tasks_in(self, *states: TaskState) -> list[TaskRecord]:
        return [task for task in self.tasks.values() if task.state in states]

    def running(self) -> list[TaskRecord]:
        return self.tasks_in(TaskState.RUNNING)

    def spend_on(self, day: str) -> float:
        return self.spend_by_day.get(day, 0.0)


def utc_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class _Draft:
    """A mutable working copy used while folding a batch of events, frozen once at the end.

    Copying the task map once per batch instead of once per event keeps replaying a long
    log linear in its length.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.base = snapshot
        self.tasks = dict(snapshot.tasks)
        self.hosts = dict(snapshot.hosts)
        self.rejected = dict(snapshot.rejected)
        self.rejected_issues = dict(snapshot.rejected_issues)
        self.spend = dict(snapshot.spend_by_day)
        self.sources = dict(snapshot.sources)
        self.sources_ok_at = dict(snapshot.sources_ok_at)
        self.integrations = dict(snapshot.integrations)
        self.milestones_closed = dict(snapshot.milestones_closed)
        self.flags: dict[str, object] = {}
        self.warnings = dict.fromkeys(snapshot.warnings)
        """Each warning once (a dict keeps order): every start warns again about the cycle it finds."""
        self.recent = list(snapshot.recent)
        self.seq = snapshot.seq
        self.now = snapshot.now

    def update(self, key: str, **changes: object) -> None:
        task = self.tasks.get(key)
        if task is not None:
            self.tasks[key] = replace(task, **changes)

    def overrides(self, key: str, **changes: object) -> None:
        task = self.tasks.get(key)
        if task is not None:
            self.tasks[key] = replace(task, overrides=replace(task.overrides, **changes))

    def freeze(self) -> Snapshot:
        return replace(
            self.base,
            seq=self.seq,
            now=self.now,
            tasks=MappingProxyType(self.tasks),
            hosts=MappingProxyType(self.hosts),
            rejected=MappingProxyType(self.rejected),
            rejected_issues=MappingProxyType(self.rejected_issues),
            spend_by_day=MappingProxyType(self.spend),
            sources=MappingProxyType(self.sources),
            sources_ok_at=MappingProxyType(self.sources_ok_at),
            integrations=MappingProxyType(self.integrations),
            milestones_closed=MappingProxyType(self.milestones_closed),
            warnings=tuple(self.warnings)[-WARNINGS_KEPT:],
            recent=tuple(self.recent[-RECENT_EVENTS_KEPT:]),
            **self.flags,  # type: ignore[arg-type]
        )


def _seen(draft: _Draft, event: ev.IssueSeen) -> None:
    issue = event.issue_data
    deps = tuple(dict.fromkeys(issue.depends_on + parse_references(issue.body, issue.repo)))
    deps = tuple(dep for dep in deps if dep != issue.key)
    existing = draft.tasks.get(issue.key)
    if existing is None:
        state = TaskState.GONE if issue.closed else TaskState.QUEUED
        draft.tasks[issue.key] = TaskRecord(issue=issue, state=state, deps=deps, first_seen=event.ts)
    else:
        state = existing.state
        if state is TaskState.GONE and not issue.closed:
            state = TaskState.QUEUED
        elif state is TaskState.QUEUED and issue.closed:
            state = TaskState.GONE
        draft.tasks[issue.key] = replace(existing, issue=issue, deps=deps, state=state)
    draft.rejected.pop(issue.source_path, None)
    draft.rejected_issues.pop(issue.key, None)
    for key in [key for key, path in draft.rejected_issues.items() if path == issue.source_path]:
        del draft.rejected_issues[key]  # its file reads again, as another issue


_OUTCOME_STATE = {
    Outcome.SUCCEEDED: TaskState.SUCCEEDED,
    Outcome.FAILED: TaskState.FAILED,
    Outcome.CANCELLED: TaskState.CANCELLED,
}


def _finished(draft: _Draft, event: ev.SessionFinished) -> None:
    task = draft.tasks.get(event.issue)
    if task is None or task.session is None or task.session.session_id != event.session_id:
        return
    if task.state is not TaskState.RUNNING:
        return
    result = event.result
    session = task.session
    where = {
        "log_path": session.log_path, "host": session.host, "executor": session.executor, "session_dir": session.folder,
        "worktree": session.worktree, "branch": session.branch, "agent": session.agent, "agent_session_id": session.agent_session_id,
    }
    # Rounds a gate sent back to the agent where the session ran: attempts of their own, as local rounds are.
    rounds = tuple(
        Attempt(session_id=round_.session_id, attempt=round_.attempt, outcome=Outcome.FAILED, error_class=round_.error_class,
                error=round_.error, cost_usd=round_.cost_usd, duration_s=round_.duration_s, will_retry=True, **where)
        for round_ in result.earlier_rounds
    )
    attempt = Attempt(
        session_id=session.session_id, attempt=session.attempt + len(rounds), outcome=result.outcome,
        error_class=result.error_class, error=result.error, cost_usd=result.cost_usd,
        duration_s=result.duration_s, agent_ran=session.spawned or session.pid is not None,
        will_retry=event.will_retry, host_wide=event.host_wide, **where,
    )
    day = utc_day(event.ts)
    draft.spend[day] = draft.spend.get(day, 0.0) + result.cost_usd + sum(round_.cost_usd for round_ in rounds)
    state = _OUTCOME_STATE[result.outcome]
    if task.issue.closed and state is not TaskState.SUCCEEDED:
        state = TaskState.GONE  # closed while it ran: nothing is left to do, nothing to requeue
    if rounds:  # the session stands for its last round now: its log, its attempt
        session = replace(session, attempt=attempt.attempt)
    if result.error_class is ErrorClass.LOST and not attempt.agent_ran:
        # Stopped before its agent started: nothing was tried, so there is no attempt to show or
        # count, and the retry that follows is this attempt again.
        attempts = max((earlier.attempt for earlier in task.history), default=session.attempt - 1)
        draft.tasks[event.issue] = replace(task, state=state, attempts=attempts, session=session, finished_at=event.ts, cancel_requested=False)
        return
    draft.tasks[event.issue] = replace(
        task, state=state, result=result, attempts=max(task.attempts, attempt.attempt), session=session,
        history=task.history + rounds + (attempt,), finished_at=event.ts, cancel_requested=False,
        rework_note="" if state is TaskState.SUCCEEDED else task.rework_note,
    )


def _requeue(draft: _Draft, key: str, not_before: float | None = None, resume: str = "") -> None:
    task = draft.tasks.get(key)
    if task is None or task.state not in (TaskState.FAILED, TaskState.CANCELLED):
        return
    draft.update(key, state=TaskState.QUEUED, not_before=not_before, resume_agent_session=resume, finished_at=None)


def _rework(draft: _Draft, event: ev.MilestoneConflict) -> None:
    """A succeeded issue whose branch conflicts in its milestone's integration is worked on again."""
    task = draft.tasks.get(event.issue)
    if task is None or task.state is not TaskState.SUCCEEDED:
        return
    draft.update(event.issue, state=TaskState.QUEUED, finished_at=None, not_before=None, resume_agent_session="",
                 rework_note=event.follow_up, reworks=task.reworks + 1)


def _host(draft: _Draft, event: ev.HostProbed) -> None:
    host = event.host
    previous = draft.hosts.get(host.name)
    history = previous.load_history if previous else ()
    if host.load is not None:
        history = (history + (host.load,))[-HOST_HISTORY_KEPT:]
    memory = previous.mem_history if previous else ()
    if host.mem_percent is not None:
        memory = (memory + (host.mem_percent,))[-HOST_HISTORY_KEPT:]
    draft.hosts[host.name] = replace(host, load_history=history, mem_history=memory)


def _session_matches(draft: _Draft, key: str, session_id: str) -> TaskRecord | None:
    task = draft.tasks.get(key)
    if task is None or task.session is None or task.session.session_id != session_id:
        return None
    return task


def _apply_specific(draft: _Draft, event: ev.Event) -> None:
    match event:
        case ev.IssueSeen():
            _seen(draft, event)
        case ev.IssueGone(issue=key):
            task = draft.tasks.get(key)
            if task is not None and task.state is TaskState.QUEUED:
                draft.update(key, state=TaskState.GONE, finished_at=event.ts)
            elif task is not None and task.state is TaskState.RUNNING:
                # Its session ends as the policy says; it is not retried or requeued after that.
                draft.update(key, issue=replace(task.issue, closed=True))
        case ev.IssueRejected(path=path, error=error, issue=rejected_key):
            draft.rejected[path] = error
            if rejected_key:
                draft.rejected_issues[rejected_key] = path
        case ev.IssueHeld(issue=key, reason=reason):
            draft.update(key, held_reason=reason)
        case ev.BlockersConflicted(issue=key, reason=reason):
            draft.update(key, blockers_conflict=event if reason else None)
        case ev.Warned(message=message, notice=False):
            draft.warnings.pop(message, None)  # told again: listed where it was last told
            draft.warnings[message] = None
        case ev.SessionStarted(issue=key, session=session):
            task = draft.tasks.get(key)
            if task is not None:
                draft.update(
                    key, state=TaskState.RUNNING, session=session,
                    attempts=max(task.attempts, session.attempt), not_before=None, result=None,
                    cancel_requested=False,
                )
        case ev.SessionSpawned(issue=key, session_id=session_id, pid=pid, agent_session_id=agent_session_id):
            task = _session_matches(draft, key, session_id)
            if task is not None and task.session is not None:
                agent_session = agent_session_id or task.session.agent_session_id
                external = {"external_id": event.external_id, "external_url": event.external_url} if event.external_id else {}
                draft.update(key, session=replace(task.session, pid=pid, agent_session_id=agent_session, spawned=True, **external))
        case ev.SessionProgressed(issue=key, session_id=session_id, progress=progress):
            task = _session_matches(draft, key, session_id)
            if task is not None and task.session is not None:
                draft.update(key, session=replace(task.session, progress=progress))
        case ev.SessionFinished():
            _finished(draft, event)
        case ev.AgentExited(issue=key, session_id=session_id, result=result):
            task = _session_matches(draft, key, session_id)
            if task is not None and task.session is not None:
                draft.update(key, session=replace(task.session, agent_ended=result))
        case ev.StepFinished(issue=key, session_id=session_id, step=step, facts=facts):
            task = _session_matches(draft, key, session_id)
            if task is not None and task.session is not None:
                session = task.session
                draft.update(key, session=replace(session, steps_done=session.steps_done + (step,), facts={**session.facts, **facts}))
        case ev.PullRequestMerged(issue=key):
            draft.update(key, pr_merged=True)
        case ev.RetryScheduled(issue=key, not_before=not_before, resume_agent_session=resume):
            _requeue(draft, key, not_before, resume)
        case ev.IssueRequeued(issue=key):
            _requeue(draft, key)
        case ev.CancelRequested(issue=key):
            draft.update(key, cancel_requested=True)
        case ev.DispatcherPaused(reason=reason, until=until, by=by):
            draft.flags.update(dispatcher_paused=True, pause_reason=reason or f"paused by {by}", paused_until=until, paused_by=by)
        case ev.DispatcherResumed():
            draft.flags.update(dispatcher_paused=False, pause_reason="", paused_until=None, paused_by="")
        case ev.IssuePaused(issue=key):
            draft.overrides(key, paused=True)
        case ev.IssueResumed(issue=key):
            draft.overrides(key, paused=False)
        case ev.PriorityBumped(issue=key, delta=delta):
            task = draft.tasks.get(key)
            if task is not None:
                draft.overrides(key, bump=task.overrides.bump + delta)
        case ev.IssuePinned(issue=key, pinned=pinned):
            draft.overrides(key, pinned=pinned)
        case ev.HostProbed():
            _host(draft, event)
        case ev.HostDrained(host=host):
            draft.flags["draining"] = frozenset(draft.flags.get("draining", draft.base.draining)) | {host}  # type: ignore[arg-type]
        case ev.HostRestored(host=host):
            draft.flags["draining"] = frozenset(draft.flags.get("draining", draft.base.draining)) - {host}  # type: ignore[arg-type]
        case ev.MilestoneIntegrated() | ev.MilestoneConflict() | ev.MilestoneBlocked():
            draft.integrations[(event.repo, event.milestone)] = event
            if isinstance(event, ev.MilestoneConflict) and event.requeued:
                _rework(draft, event)
        case ev.MilestoneClosed(repo=repo, milestone=milestone, pull_request=pull):
            draft.milestones_closed[(repo, milestone)] = pull
        case ev.SourcePolled(source=source, ok=ok):
            draft.sources[source] = event
            if ok:
                draft.sources_ok_at[source] = event.ts


_QUIET_EVENTS = (ev.SessionProgressed, ev.HostProbed, ev.SourcePolled)
"""High-volume events left out of the recent-events list the event log panel shows."""


def apply_all(snapshot: Snapshot, events: Iterable[ev.Event]) -> Snapshot:
    """Fold events, in order, into a new snapshot; pure, so replaying the log rebuilds state."""
    draft = _Draft(snapshot)
    for event in events:
        _apply_specific(draft, event)
        if not isinstance(event, _QUIET_EVENTS):
            draft.recent.append(event)
        draft.seq = max(draft.seq, event.seq)
        draft.now = max(draft.now, event.ts)
    return draft.freeze()


def apply(snapshot: Snapshot, event: ev.Event) -> Snapshot:
    """Fold one event into a new snapshot."""
    return apply_all(snapshot, (event,))


def replay(events: Iterable[ev.Event], start: Snapshot | None = None) -> Snapshot:
    return apply_all(start or Snapshot(), events)
