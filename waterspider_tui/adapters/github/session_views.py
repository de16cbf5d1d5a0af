"""What one session's comment should show now: its task record as of that session, live or finished."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from waterspider_tui.core.models import Outcome, SessionInfo, SessionResult, TaskState

if TYPE_CHECKING:
    from waterspider_tui.core.state import Attempt, TaskRecord

_OUTCOME_STATE = {
    Outcome.SUCCEEDED: TaskState.SUCCEEDED,
    Outcome.FAILED: TaskState.FAILED,
    Outcome.CANCELLED: TaskState.CANCELLED,
}


def session_view(
    task: TaskRecord,
    session_id: str,
    *,
    known: SessionInfo | None = None,
    finished: tuple[float, SessionResult] | None = None,
) -> TaskRecord | None:
    """The task as the renderer should see it for this session; None when there is nothing to show.

    The snapshot may have moved on (the issue was requeued, or a new attempt started) by the
    time a comment is written, so a finished session is told by its entry in `history`, not by
    the task's state. Its details come from the task when it is still the task's session, else
    from `known` (the session as last seen) and `finished` (the SessionFinished's time and
    result), else from the history entry alone.
    """
    current = task.session if task.session is not None and task.session.session_id == session_id else None
    attempt = next((item for item in reversed(task.history) if item.session_id == session_id), None)
    if attempt is None:
        return task if current is not None and task.state is TaskState.RUNNING else None
    ended_at = finished[0] if finished else (task.finished_at if current is not None else None)
    session = current or known or _session_of(task, attempt, ended_at)
    if current is not None and task.result is not None:
        result = task.result
    else:
        result = finished[1] if finished else _result_of(attempt)
    if ended_at is None:
        ended_at = session.started_at + attempt.duration_s
    return replace(task, session=session, state=_OUTCOME_STATE[attempt.outcome], result=result, finished_at=ended_at)


def _session_of(task: TaskRecord, attempt: Attempt, ended_at: float | None) -> SessionInfo:
    """A session known only by its history entry: no branch, worktree or agent to show."""
    started_at = ended_at - attempt.duration_s if ended_at is not None else 0.0
    return SessionInfo(
        session_id=attempt.session_id, issue=task.key, attempt=attempt.attempt, executor=attempt.executor, host=attempt.host,
        worktree=attempt.worktree, branch=attempt.branch, log_path=attempt.log_path, started_at=started_at, agent=attempt.agent,
        session_dir=attempt.session_dir,
    )


def _result_of(attempt: Attempt) -> SessionResult:
    return SessionResult(
        attempt.outcome, error_class=attempt.error_class, error=attempt.error, cost_usd=attempt.cost_usd,
        duration_s=attempt.duration_s,
    )
