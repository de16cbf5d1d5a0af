"""When a dependant may start (`merged` or `gate_passed`) and the blocker branch a stacked one starts from."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.core.readiness import Readiness, StackBase, stack_base, stack_bases

from tests.core.core_builders import T0, finished, issue, key, snapshot, started


def _pr_opened(number: int) -> ev.StepFinished:
    return ev.StepFinished(ts=T0, issue=key(number), session_id=f"s-{number}-1", step="pull_request", ok=True,
                           facts={"pr_number": 40 + number, "pr_url": f"https://github.com/acme/app/pull/{40 + number}"})


def _blocker(readiness: Readiness, number: int, snap: object) -> object:
    unknown: list[tuple[str, str]] = []
    return readiness.blocker(key(number), snap.tasks[key(number)], snap, {}, T0, unknown)  # type: ignore[attr-defined]


def test_merged_waits_for_the_merge_and_gate_passed_does_not() -> None:
    events = [started(1), _pr_opened(1), finished(1)]
    snap = snapshot(issue(1), issue(2, deps=[1]), events=events)
    waiting = _blocker(Readiness("merged"), 2, snap)
    assert waiting is not None and waiting.detail == "waits on #1 (succeeded, its pull request not merged yet)"  # type: ignore[attr-defined]
    assert _blocker(Readiness("gate_passed"), 2, snap) is None
    merged = snapshot(issue(1), issue(2, deps=[1]), events=[*events, ev.PullRequestMerged(ts=T0, issue=key(1), number=41)])
    assert _blocker(Readiness("merged"), 2, merged) is None


def test_merged_counts_a_blocker_without_a_pull_request_or_closed_upstream_done() -> None:
    no_pull = snapshot(issue(1), issue(2, deps=[1]), events=[started(1), finished(1)])
    assert _blocker(Readiness("merged"), 2, no_pull) is None
    closed = snapshot(issue(1, closed=True), issue(2, deps=[1]), events=[started(1), _pr_opened(1), finished(1)])
    assert _blocker(Readiness("merged"), 2, closed) is None


def test_gate_passed_stacks_on_the_unmerged_blocker_only() -> None:
    events = [started(1), _pr_opened(1), finished(1)]
    snap = snapshot(issue(1), issue(2, deps=[1]), events=events)
    assert stack_base(snap.tasks[key(2)], snap, "gate_passed") == StackBase(key(1), "feature/issue-1", "local", "localhost")
    assert stack_base(snap.tasks[key(2)], snap, "merged") is None
    merged = snapshot(issue(1), issue(2, deps=[1]), events=[*events, ev.PullRequestMerged(ts=T0, issue=key(1), number=41)])
    assert stack_base(merged.tasks[key(2)], merged, "gate_passed") is None, "merged work is on the base already"


def test_with_two_unmerged_blockers_it_stacks_on_the_first_and_does_not_wait() -> None:
    events = [started(1), finished(1), started(2), finished(2)]
    snap = snapshot(issue(1), issue(2), issue(3, deps=[2, 1]), events=events)
    assert _blocker(Readiness("gate_passed"), 3, snap) is None, "nothing may be merged, ever (a run without pull requests)"
    assert stack_base(snap.tasks[key(3)], snap, "gate_passed") == StackBase(key(2), "feature/issue-2", "local", "localhost")
    one_left = snapshot(issue(1), issue(2), issue(3, deps=[2, 1]), events=[*events, ev.PullRequestMerged(ts=T0, issue=key(2), number=42)])
    assert stack_base(one_left.tasks[key(3)], one_left, "gate_passed") == StackBase(key(1), "feature/issue-1", "local", "localhost")


def test_with_several_unmerged_blockers_it_stacks_on_all_of_them_in_dependency_order() -> None:
    # #5 names #4, #3, #2; #4 builds on #3: #3 comes before #4 whatever the order named.
    events = [started(n) for n in (1, 2, 3, 4)] + [finished(n) for n in (1, 2, 3, 4)]
    snap = snapshot(issue(1), issue(2, deps=[1]), issue(3), issue(4, deps=[3]), issue(5, deps=[4, 2, 3]), events=events)
    bases = stack_bases(snap.tasks[key(5)], snap, "gate_passed")
    assert [base.issue for base in bases] == [key(2), key(3), key(4)]
    assert [base.branch for base in bases] == ["feature/issue-2", "feature/issue-3", "feature/issue-4"]
    assert stack_base(snap.tasks[key(5)], snap, "gate_passed") == bases[0]
    assert stack_bases(snap.tasks[key(5)], snap, "merged") == ()
    two_merged = snapshot(
        issue(1), issue(2, deps=[1]), issue(3), issue(4, deps=[3]), issue(5, deps=[4, 2, 3]),
        events=[*events, ev.PullRequestMerged(ts=T0, issue=key(2), number=42), ev.PullRequestMerged(ts=T0, issue=key(3), number=43)],
    )
    assert [base.issue for base in stack_bases(two_merged.tasks[key(5)], two_merged, "gate_passed")] == [key(4)]
