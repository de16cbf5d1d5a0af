"""Snapshots for reporter and renderer tests, built by folding real events through the core reducer."""

from __future__ import annotations

from dataclasses import dataclass, field

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Issue, Outcome, Progress, SessionInfo, SessionResult
from waterspider_tui.core.state import Snapshot, apply

START = 1_800_000_000.0


def session_info(key: str, session_id: str = "s-1", attempt: int = 1, started_at: float = START) -> SessionInfo:
    number = key.rpartition("#")[2]
    return SessionInfo(
        session_id=session_id, issue=key, attempt=attempt, executor="local", host="local",
        worktree=f".worktrees/issue-{number}", branch=f"feature/issue-{number}",
        log_path=f"/tmp/{session_id}.log", started_at=started_at, agent="claude",
    )


def failed(error_class: ErrorClass = ErrorClass.MAX_TURNS, error: str = "Reached max turns (40)") -> SessionResult:
    return SessionResult(Outcome.FAILED, error_class=error_class, error=error, turns=40, cost_usd=1.25, duration_s=600)


def succeeded(summary: str = "Added the login form and its tests.") -> SessionResult:
    return SessionResult(Outcome.SUCCEEDED, summary=summary, turns=12, cost_usd=0.42, duration_s=252, commits=2, files_changed=5)


@dataclass
class Story:
    """One issue's life as (event, snapshot-after) pairs, the way the engine hands them to reporters."""

    issue: Issue
    snapshot: Snapshot = field(default_factory=Snapshot)
    now: float = START

    @property
    def key(self) -> str:
        return self.issue.key

    def _step(self, event: ev.Event) -> tuple[ev.Event, Snapshot]:
        self.snapshot = apply(self.snapshot, event)
        return event, self.snapshot

    def seen(self, issue: Issue | None = None) -> tuple[ev.Event, Snapshot]:
        self.issue = issue or self.issue
        return self._step(ev.IssueSeen(ts=self.now, issue_data=self.issue))

    def started(self, session_id: str = "s-1", attempt: int = 1) -> tuple[ev.Event, Snapshot]:
        info = session_info(self.key, session_id, attempt, self.now)
        return self._step(ev.SessionStarted(ts=self.now, issue=self.key, session=info))

    def progressed(self, session_id: str = "s-1", **progress: object) -> tuple[ev.Event, Snapshot]:
        return self._step(ev.SessionProgressed(ts=self.now, issue=self.key, session_id=session_id,
                                               progress=Progress(**progress)))  # type: ignore[arg-type]

    def finished(self, result: SessionResult, session_id: str = "s-1") -> tuple[ev.Event, Snapshot]:
        return self._step(ev.SessionFinished(ts=self.now, issue=self.key, session_id=session_id, result=result))

    def retried(self, session_id: str = "s-1") -> tuple[ev.Event, Snapshot]:
        return self._step(ev.RetryScheduled(ts=self.now, issue=self.key, not_before=self.now, error_class="max_turns"))

    def task(self):
        return self.snapshot.tasks[self.key]
