"""Things that happened: every change to state is one of these, appended to the log first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from waterspider_tui.core.models import HostStatus, Issue, Progress, SessionInfo, SessionResult


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events; `ts` is seconds since the epoch, `seq` is given by the store."""

    type: ClassVar[str] = "event"
    ts: float
    seq: int = 0

    @property
    def issue_key(self) -> str | None:
        return getattr(self, "issue", None)


@dataclass(frozen=True, kw_only=True)
class IssueSeen(Event):
    """A source reported an issue, new or changed."""

    type: ClassVar[str] = "issue_seen"
    issue_data: Issue

    @property
    def issue_key(self) -> str | None:
        return self.issue_data.key


@dataclass(frozen=True, kw_only=True)
class IssueGone(Event):
    """An issue was closed upstream or lost its trigger label."""

    type: ClassVar[str] = "issue_gone"
    issue: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class IssueRejected(Event):
    """A source could not read an issue (a malformed file, a bad body); it is skipped."""

    type: ClassVar[str] = "issue_rejected"
    path: str
    error: str
    issue: str | None = None


@dataclass(frozen=True, kw_only=True)
class IssueHeld(Event):
    """A source holds an issue back (untrusted label or edit); `reason` empty releases it."""

    type: ClassVar[str] = "issue_held"
    issue: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class BlockersConflicted(Event):
    """A stacked dependant's blockers change the same lines: it is held, with no session, until their
    branches merge cleanly; `reason` empty releases it."""

    type: ClassVar[str] = "blockers_conflicted"
    issue: str
    reason: str
    issues: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    executor: str = ""
    host: str = ""
    """Where the branches were checked (where the dependant would have run)."""
    heads: tuple[tuple[str, str], ...] = ()
    """(branch, commit) judged: a new commit on one of them, or a blocker merged, asks again."""


@dataclass(frozen=True, kw_only=True)
class Warned(Event):
    """Something the operator should read that stops nothing (unknown reference, cycle)."""

    type: ClassVar[str] = "warned"
    message: str
    issue: str | None = None
    notice: bool = False
    """Good news or a plain fact (a host answers again): said without `warning:` and not listed as a problem."""


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    """A session was decided and is being launched; recorded before the process exists."""

    type: ClassVar[str] = "session_started"
    issue: str
    session: SessionInfo


@dataclass(frozen=True, kw_only=True)
class SessionSpawned(Event):
    """The session's process runs (or was found running again after a restart)."""

    type: ClassVar[str] = "session_spawned"
    issue: str
    session_id: str
    pid: int | None
    reattached: bool = False
    agent_session_id: str = ""
    """The agent's own session id when it became known at launch (kept for `--resume`)."""
    external_id: str = ""
    """The id of the job the session runs as elsewhere (a GitHub Actions run), once known."""
    external_url: str = ""


@dataclass(frozen=True, kw_only=True)
class SessionProgressed(Event):
    """New progress parsed from a running session's stream (throttled)."""

    type: ClassVar[str] = "session_progressed"
    issue: str
    session_id: str
    progress: Progress


@dataclass(frozen=True, kw_only=True)
class SessionFinished(Event):
    """A session ended, with what its stream and branch say."""

    type: ClassVar[str] = "session_finished"
    issue: str
    session_id: str
    result: SessionResult
    will_retry: bool = False
    """The retry policy's decision for this failure, so every view gives the same advice."""
    limit: bool = False
    """A rate or usage limit: dispatch pauses until its reset."""
    host_wide: bool = False
    """A failure of the host (auth, agent missing): dispatch pauses, the issue stays queued."""


@dataclass(frozen=True, kw_only=True)
class AgentExited(Event):
    """The agent ended with this result; the steps after it (commits, gate, push) come next.

    Recorded before any of those steps runs (write-ahead), so a restart finishes them
    instead of starting the agent again.
    """

    type: ClassVar[str] = "agent_exited"
    issue: str
    session_id: str
    result: SessionResult


@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    """A step after the agent began; one without its StepFinished is repeated after a restart."""

    type: ClassVar[str] = "step_started"
    issue: str
    session_id: str
    step: str


@dataclass(frozen=True, kw_only=True)
class StepFinished(Event):
    """A step after the agent ended: what it found, and whether the session may go on."""

    type: ClassVar[str] = "step_finished"
    issue: str
    session_id: str
    step: str
    ok: bool
    summary: str = ""
    error_class: str = ""
    facts: dict[str, int | float | str] = field(default_factory=dict)
    """What the step measured (commits, files changed, a PR number), merged into the result."""


@dataclass(frozen=True, kw_only=True)
class SessionDetached(Event):
    """The orchestrator stopped and left this session running, to be reattached."""

    type: ClassVar[str] = "session_detached"
    issue: str
    session_id: str


@dataclass(frozen=True, kw_only=True)
class RetryScheduled(Event):
    """A failed issue goes back to the queue by the retry policy, not before `not_before`."""

    type: ClassVar[str] = "retry_scheduled"
    issue: str
    not_before: float
    error_class: str
    resume_agent_session: str = ""


@dataclass(frozen=True, kw_only=True)
class DispatcherPaused(Event):
    """No new sessions start until resumed (or until `until`, for limits that reset)."""

    type: ClassVar[str] = "dispatcher_paused"
    by: str
    reason: str = ""
    until: float | None = None


@dataclass(frozen=True, kw_only=True)
class DispatcherResumed(Event):
    type: ClassVar[str] = "dispatcher_resumed"
    by: str


@dataclass(frozen=True, kw_only=True)
class IssuePaused(Event):
    type: ClassVar[str] = "issue_paused"
    issue: str
    by: str


@dataclass(frozen=True, kw_only=True)
class IssueResumed(Event):
    type: ClassVar[str] = "issue_resumed"
    issue: str
    by: str


@dataclass(frozen=True, kw_only=True)
class PriorityBumped(Event):
    type: ClassVar[str] = "priority_bumped"
    issue: str
    delta: int
    by: str


@dataclass(frozen=True, kw_only=True)
class IssuePinned(Event):
    type: ClassVar[str] = "issue_pinned"
    issue: str
    pinned: bool
    by: str


@dataclass(frozen=True, kw_only=True)
class IssueRequeued(Event):
    """The operator sent a failed or cancelled issue back to the queue."""

    type: ClassVar[str] = "issue_requeued"
    issue: str
    by: str


@dataclass(frozen=True, kw_only=True)
class CancelRequested(Event):
    type: ClassVar[str] = "cancel_requested"
    issue: str
    by: str


@dataclass(frozen=True, kw_only=True)
class HostDrained(Event):
    """No new session goes to this host; the ones running there finish."""

    type: ClassVar[str] = "host_drained"
    host: str
    by: str


@dataclass(frozen=True, kw_only=True)
class HostRestored(Event):
    """A drained host takes new sessions again."""

    type: ClassVar[str] = "host_restored"
    host: str
    by: str


@dataclass(frozen=True, kw_only=True)
class HostProbed(Event):
    type: ClassVar[str] = "host_probed"
    host: HostStatus


@dataclass(frozen=True, kw_only=True)
class SourcePolled(Event):
    """A poll of an issue source finished; `wait_until` is set while a rate limit holds it."""

    type: ClassVar[str] = "source_polled"
    source: str
    ok: bool
    message: str = ""
    next_poll: float | None = None
    rate_remaining: int | None = None
    rate_limit: int | None = None
    wait_until: float | None = None


@dataclass(frozen=True, kw_only=True)
class MilestoneIntegrated(Event):
    """A milestone's issues were merged into its integration branch, with the gate's verdict and what was published."""

    type: ClassVar[str] = "milestone_integrated"
    repo: str
    milestone: str
    branch: str = ""
    base: str = ""
    head: str = ""
    issues: tuple[str, ...] = ()
    """The merged issues' keys, in merge (dependency) order."""
    gate_ok: bool | None = None
    """None: no gate ran on the integrated branch."""
    gate_summary: str = ""
    pull_request: int | None = None
    """The milestone pull request opened or updated for it."""
    published: str = ""
    """What was written on GitHub, as a phrase (`pull request #7 opened (…)`)."""
    summary: str = ""
    """The whole outcome in one line, for the event log."""

    @property
    def ok(self) -> bool:
        return self.gate_ok is not False and "publishing failed" not in self.published


@dataclass(frozen=True, kw_only=True)
class MilestoneConflict(Event):
    """An issue's branch could not be merged onto the ones before it; nothing was resolved."""

    type: ClassVar[str] = "milestone_conflict"
    repo: str
    milestone: str
    issue: str = ""
    """The later issue, the one whose branch did not merge (empty in a record upgraded from an older store)."""
    branch: str = ""
    base: str = ""
    files: tuple[str, ...] = ()
    with_issues: tuple[str, ...] = ()
    """Issues merged before it that changed the same files."""
    with_base: bool = False
    """The base changed the same files since the issue's branch left it."""
    merge_base: str = ""
    merged: tuple[str, ...] = ()
    not_merged: tuple[str, ...] = ()
    published: str = ""
    summary: str = ""
    requeued: bool = False
    """The later issue goes back to the queue (`on_conflict = "requeue_rebased"`), its branch on top of the
    integration branch, with `follow_up` after its agent's prompt."""
    follow_up: str = ""


@dataclass(frozen=True, kw_only=True)
class MilestoneBlocked(Event):
    """A complete milestone could not be integrated: branches missing, or git failed."""

    type: ClassVar[str] = "milestone_blocked"
    repo: str
    milestone: str
    reason: str
    issues: tuple[str, ...] = ()
    """The issues it stopped at (their branch not found), when that is why."""
    summary: str = ""


@dataclass(frozen=True, kw_only=True)
class MilestoneClosed(Event):
    """The GitHub milestone was closed because its integration pull request was merged."""

    type: ClassVar[str] = "milestone_closed"
    repo: str
    milestone: str
    number: int
    """The GitHub milestone's number."""
    pull_request: int


@dataclass(frozen=True, kw_only=True)
class PullRequestMerged(Event):
    """An issue's pull request was merged: dependants waiting for merges count it done."""

    type: ClassVar[str] = "pull_request_merged"
    issue: str
    number: int
    url: str = ""


MILESTONE_EVENTS = (MilestoneIntegrated, MilestoneConflict, MilestoneBlocked, MilestoneClosed)
"""What the milestone integrator writes through the store (notifiers and views match on these)."""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        IssueSeen, IssueGone, IssueRejected, IssueHeld, BlockersConflicted, Warned, SessionStarted, SessionSpawned,
        SessionProgressed, SessionFinished, AgentExited, StepStarted, StepFinished, SessionDetached, RetryScheduled, DispatcherPaused,
        DispatcherResumed, IssuePaused, IssueResumed, PriorityBumped, IssuePinned,
        IssueRequeued, CancelRequested, HostDrained, HostRestored, HostProbed, SourcePolled,
        *MILESTONE_EVENTS, PullRequestMerged,
    )
}
"""Every event class by its stored type name."""

OPERATOR_EVENTS = (
    DispatcherPaused, DispatcherResumed, IssuePaused, IssueResumed, PriorityBumped,
    IssuePinned, IssueRequeued, CancelRequested, HostDrained, HostRestored,
)
