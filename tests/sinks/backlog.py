"""A backlog as stored events: issues with milestones and dependencies, sessions that start and end."""

from __future__ import annotations

from typing import Sequence

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.core.state import Snapshot, replay

T0 = 1_800_000_000.0
REPO = "local"


def key(number: int, repo: str = REPO) -> str:
    return f"{repo}#{number}"


def issue(
    number: int, *, milestone: str | None = "v1.0", deps: Sequence[int | str] = (), repo: str = REPO, title: str = "",
    closed: bool = False, external_open: Sequence[str] = (),
) -> Issue:
    """`deps` are numbers in the same repository or full keys elsewhere."""
    return Issue(
        repo=repo, number=number, title=title or f"Task {number}", milestone=milestone,
        depends_on=tuple(dep if isinstance(dep, str) else key(dep, repo) for dep in deps), closed=closed,
        external_open=tuple(external_open),
        url=f"https://github.com/{repo}/issues/{number}" if "/" in repo else "",
    )


def seen(*issues: Issue, ts: float = T0) -> list[ev.Event]:
    return [ev.IssueSeen(ts=ts, issue_data=item) for item in issues]


def session(number: int, attempt: int = 1, ts: float = T0, repo: str = REPO) -> SessionInfo:
    return SessionInfo(
        session_id=f"s-{number}-{attempt}", issue=key(number, repo), attempt=attempt, executor="local", host="local",
        worktree=f".worktrees/issue-{number}", branch=f"feature/issue-{number}", log_path=f"/tmp/s-{number}.log",
        started_at=ts, spawned=True,
    )


def started(number: int, ts: float = T0, attempt: int = 1, repo: str = REPO) -> ev.Event:
    return ev.SessionStarted(ts=ts, issue=key(number, repo), session=session(number, attempt, ts, repo))


def succeeded(number: int, ts: float = T0, attempt: int = 1, repo: str = REPO) -> ev.Event:
    result = SessionResult(Outcome.SUCCEEDED, summary="done", cost_usd=0.5, duration_s=60, commits=1)
    return ev.SessionFinished(ts=ts, issue=key(number, repo), session_id=f"s-{number}-{attempt}", result=result)


def failed(
    number: int, ts: float = T0, *, error_class: ErrorClass = ErrorClass.MAX_TURNS, will_retry: bool = False,
    host_wide: bool = False, attempt: int = 1, repo: str = REPO,
) -> ev.Event:
    result = SessionResult(Outcome.FAILED, error_class=error_class, error="Reached max turns (40)", cost_usd=1.25, duration_s=600)
    return ev.SessionFinished(
        ts=ts, issue=key(number, repo), session_id=f"s-{number}-{attempt}", result=result,
        will_retry=will_retry, host_wide=host_wide,
    )


def ran(number: int, ts: float = T0, *, ok: bool = True, repo: str = REPO) -> list[ev.Event]:
    """A whole session: started, then succeeded or failed for good."""
    end = succeeded(number, ts, repo=repo) if ok else failed(number, ts, repo=repo)
    return [started(number, ts, repo=repo), end]


def snapshot_of(events: Sequence[ev.Event]) -> Snapshot:
    numbered = [type(event)(**{**event.__dict__, "seq": index + 1}) for index, event in enumerate(events)]
    return replay(numbered)
