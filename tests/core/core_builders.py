"""Hand-built issues, sessions and snapshots for the pure core tests."""

from __future__ import annotations

from typing import Iterable

from waterspider_tui.core import events as ev
from waterspider_tui.core.clock import FakeClock
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.core.state import Snapshot, apply_all

REPO = "o/r"
T0 = 1_700_000_000.0
"""2023-11-14T22:13:20Z: the FakeClock's default start."""


def key(number: int, repo: str = REPO) -> str:
    return f"{repo}#{number}"


def issue(number: int, *, repo: str = REPO, body: str = "", labels: Iterable[str] = (),
          deps: Iterable[int | str] = (), estimate: float | None = None, created: float = T0,
          closed: bool = False, external_open: Iterable[str] = (), external_closed: Iterable[str] = ()) -> Issue:
    """An issue of `repo`; int deps are numbers in the same repository."""
    return Issue(
        repo=repo, number=number, title=f"issue {number}", body=body, labels=tuple(labels),
        depends_on=tuple(key(dep, repo) if isinstance(dep, int) else dep for dep in deps),
        estimate_min=estimate, created=created, closed=closed,
        external_open=tuple(external_open), external_closed=tuple(external_closed),
    )


def seen(*issues: Issue, ts: float = T0) -> list[ev.Event]:
    return [ev.IssueSeen(ts=ts, issue_data=item) for item in issues]


def session(number: int, session_id: str = "", attempt: int = 1, repo: str = REPO) -> SessionInfo:
    return SessionInfo(
        session_id=session_id or f"s-{number}-{attempt}", issue=key(number, repo), attempt=attempt,
        executor="local", host="localhost", worktree=f"/w/issue-{number}", branch=f"feature/issue-{number}",
        log_path=f"/logs/{number}-{attempt}.jsonl", started_at=T0,
    )


def started(number: int, ts: float = T0, attempt: int = 1, session_id: str = "") -> ev.SessionStarted:
    info = session(number, session_id=session_id, attempt=attempt)
    return ev.SessionStarted(ts=ts, issue=info.issue, session=info)


def finished(number: int, outcome: Outcome = Outcome.SUCCEEDED, ts: float = T0, attempt: int = 1,
             session_id: str = "", cost: float = 0.0, **result: object) -> ev.SessionFinished:
    return ev.SessionFinished(
        ts=ts, issue=key(number), session_id=session_id or f"s-{number}-{attempt}",
        result=SessionResult(outcome=outcome, cost_usd=cost, **result),  # type: ignore[arg-type]
    )


def snapshot(*issues: Issue, events: Iterable[ev.Event] = ()) -> Snapshot:
    """A snapshot where the issues were seen, then the events happened."""
    return apply_all(Snapshot(), [*seen(*issues), *events])


def clock(offset_s: float = 0.0) -> FakeClock:
    return FakeClock(T0 + offset_s)
