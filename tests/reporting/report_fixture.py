"""A night of work as events, the same every time: the report tests and screenshots/report.png use it."""

from __future__ import annotations

import random

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Issue, Outcome, SessionInfo, SessionResult

NIGHT_START = 1_767_312_000.0  # 2026-01-02T00:00:00Z
HOSTS = ("local", "mini-1", "mini-2")
TITLES = (
    "Set up the settings loader", "Add the user model", "Create the database schema", "Password hashing helper",
    "Login endpoint", "Session store", "Logout endpoint", "Rate-limit login attempts", "Audit log of sign-ins",
    "Release notes for v1.0", "Fix typo in README", "Upgrade the HTTP client", "Retry flaky network calls",
    "Health check endpoint",
)
LEVELS = ("P0-Critical", "P1-High", "P2-Medium", "P3-Low")
# The error classes of each issue's sessions, in order ("" for a success); the last one stands.
STORIES: dict[int, tuple[str, ...]] = {
    3: ("crashed", ""), 5: ("gate_failed", ""), 8: ("gate_failed", "gate_failed", "gate_failed"), 11: ("max_turns",),
    12: ("crashed", "crashed"), 13: ("cancelled",),
}


def night_events(repo: str = "acme/widgets") -> list[ev.Event]:
    """Issues seen, sessions started on three hosts, steps after the agent, sessions finished."""
    rng = random.Random(14)
    events: list[ev.Event] = []
    now = NIGHT_START
    for number, title in enumerate(TITLES, start=1):
        labels = (LEVELS[number % 4],) + (("backend",) if number % 3 else ("docs",))
        milestone = "v1.0" if number <= 8 else ("v1.1" if number <= 12 else None)
        events.append(ev.IssueSeen(ts=now, issue_data=Issue(repo=repo, number=number, title=title, labels=labels, milestone=milestone)))
    for number in range(1, len(TITLES) + 1):
        story = STORIES.get(number, ("",))
        for attempt, error_class in enumerate(story, start=1):
            key = f"{repo}#{number}"
            host = HOSTS[(number + attempt) % 3]
            now += rng.uniform(300, 1500)
            session = SessionInfo(
                session_id=f"{number}-{attempt}-s", issue=key, attempt=attempt, executor="ssh" if host != "local" else "local",
                host=host, worktree=f"/w/issue-{number}", branch=f"feature/issue-{number}", log_path="/dev/null",
                started_at=now, agent="claude",
            )
            events.append(ev.SessionStarted(ts=now, issue=key, session=session))
            took = rng.uniform(120, 2400)
            now += took
            cost = round(rng.uniform(0.05, 2.5), 2)
            turns = rng.randint(4, 60)
            last = attempt == len(story)
            if error_class in ("", "gate_failed"):
                facts: dict[str, int | float | str] = {"gate": "failed" if error_class else "passed", "gate_checks": "tests"}
                if not error_class:
                    facts["pr_url"] = f"https://github.com/{repo}/pull/{100 + number}"
                events.append(ev.StepFinished(ts=now, issue=key, session_id=session.session_id, step="gate", ok=not error_class, facts=facts))
            if error_class == "cancelled":
                result = SessionResult(outcome=Outcome.CANCELLED, error="by operator", turns=turns, cost_usd=cost, duration_s=took)
            elif error_class:
                result = SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass(error_class), error=f"{error_class} happened",
                                       turns=turns, cost_usd=cost, duration_s=took)
            else:
                result = SessionResult(outcome=Outcome.SUCCEEDED, summary="Done.", turns=turns, cost_usd=cost, duration_s=took,
                                       commits=rng.randint(1, 4), files_changed=rng.randint(1, 9))
            events.append(ev.SessionFinished(ts=now, issue=key, session_id=session.session_id, result=result,
                                             will_retry=bool(error_class) and error_class != "cancelled" and not last))
    return [_numbered(event, seq) for seq, event in enumerate(events, start=1)]


def _numbered(event: ev.Event, seq: int) -> ev.Event:
    from dataclasses import replace

    return replace(event, seq=seq)
