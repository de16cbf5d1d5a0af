"""A run with two milestones: v1.0 half done and blocked by a failure, v2.0 complete with an integration conflict."""

from __future__ import annotations

from dataclasses import replace

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Issue, Outcome, Progress

from .scenarios import LOAD_LOCAL, MIN, NOW, REPO, Scenario, finish, issue, key, polled, probe, run, seen


def _in(milestone: str, item: Issue) -> Issue:
    return replace(item, milestone=milestone)


def milestones() -> Scenario:
    v1 = [
        issue(801, "Accounts table", "P1"),
        issue(802, "Sign-up form", "P1", deps=(801,)),
        issue(803, "Email confirmation", "P2", deps=(802,)),
        issue(804, "Password rules", "P2"),
        issue(805, "Reset password", "P2", deps=(804,)),
    ]
    v2 = [issue(811, "Dark theme", "P2"), issue(812, "Theme switcher", "P2")]
    events: list[ev.Event] = [*seen(*(_in("v1.0", item) for item in v1), *(_in("v2.0", item) for item in v2), issue(820, "Tidy the changelog", "P3"))]
    events += finish(801, "local", 12 * MIN, Outcome.SUCCEEDED, 90 * MIN, executor="local")
    events += finish(802, "local", 18 * MIN, Outcome.SUCCEEDED, 60 * MIN, executor="local")
    events += finish(804, "local", 9 * MIN, Outcome.FAILED, 50 * MIN, error=ErrorClass.GATE_FAILED, message="3 tests failed", executor="local")
    events += run(803, "local", 8 * MIN, Progress("testing", 2, 3, 14, 0.44, "Bash pytest -q", NOW - 20), executor="local")
    events += finish(811, "local", 10 * MIN, Outcome.SUCCEEDED, 40 * MIN, executor="local")
    events += finish(812, "local", 11 * MIN, Outcome.SUCCEEDED, 20 * MIN, executor="local")
    events.append(ev.MilestoneConflict(
        ts=NOW - 19 * MIN, repo=REPO, milestone="v2.0", issue=key(812), branch="integration/v2.0", base="main",
        files=("src/theme.py",), with_issues=(key(811),), merge_base="4be1c0ffee", merged=(key(811),), not_merged=(key(812),),
        summary="milestone v2.0: conflict: #812 (feature/issue-812) conflicts with #811 (feature/issue-811) in src/theme.py",
    ))
    events += probe("local", 2, 1, LOAD_LOCAL, 30)
    events.append(polled())
    return Scenario("milestones", events)


def failed_in_the_middle() -> Scenario:
    """Milestone v3.0: #901 done, #902 on it failed, #903 waits on #902."""
    chain = [issue(901, "Schema", "P1"), issue(902, "Migration", "P1", deps=(901,)), issue(903, "Backfill", "P2", deps=(902,))]
    events: list[ev.Event] = [*seen(*(_in("v3.0", item) for item in chain))]
    events += finish(901, "local", 12 * MIN, Outcome.SUCCEEDED, 90 * MIN, executor="local")
    events += finish(902, "local", 9 * MIN, Outcome.FAILED, 50 * MIN, error=ErrorClass.GATE_FAILED, message="3 tests failed", executor="local")
    events += probe("local", 2, 0, LOAD_LOCAL, 30)
    events.append(polled())
    return Scenario("failed_in_the_middle", events)
