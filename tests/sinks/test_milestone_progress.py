"""Milestone progress is a pure function of the snapshot: counts, blocking issues, merge order, who completed it."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.core.milestones import completed_by, integration_order, milestone_progress, progress_of

from .backlog import T0, failed, issue, key, ran, seen, snapshot_of, started


def test_counts_each_state_and_orders_issues_by_dependency() -> None:
    events = seen(
        issue(5, deps=[4]), issue(4, deps=[2, 3]), issue(3, deps=[1]), issue(2, deps=[1]), issue(1),
        issue(9, milestone="v2.0"), issue(10, milestone=None),
    )
    events += ran(1) + [started(2)]
    progress = progress_of(snapshot_of(events), "local", "v1.0")
    assert progress is not None
    assert progress.issues == tuple(key(n) for n in (1, 2, 3, 4, 5))
    assert progress.done == (key(1),) and progress.running == (key(2),) and progress.queued == (key(3),)
    assert progress.blocked == (key(4), key(5)) and progress.failed == () and progress.blocking == ()
    assert not progress.complete and progress.total == 5
    assert progress.summary() == "v1.0: 1/5 done · 1 running · 1 queued · 2 blocked"
    assert [item.name for item in milestone_progress(snapshot_of(events))] == ["v1.0", "v2.0"]


def test_a_failure_blocks_the_milestone_even_from_outside_it() -> None:
    events = seen(issue(1, milestone=None), issue(2, deps=[1]), issue(3, deps=[2]), issue(4))
    events += ran(1, ok=False) + ran(4, ok=False)
    progress = progress_of(snapshot_of(events), "local", "v1.0")
    assert progress is not None
    assert progress.blocked == (key(2), key(3)) and progress.failed == (key(4),)
    assert progress.blocking == (key(1), key(4)), "#1 is not in the milestone but #2 and #3 wait on it"
    assert progress.summary().endswith("(blocked by #1, #4)")


def test_held_paused_cycles_and_open_outside_issues_block() -> None:
    events = seen(
        issue(1), issue(2, deps=[3]), issue(3, deps=[2]), issue(4),
        issue(6, deps=["other/repo#7"], external_open=["other/repo#7"]),
    )
    events += [ev.IssueHeld(ts=T0, issue=key(1), reason="labeled by a stranger"), ev.IssuePaused(ts=T0, issue=key(4), by="op")]
    progress = progress_of(snapshot_of(events), "local", "v1.0")
    assert progress is not None
    assert set(progress.blocked) == {key(1), key(2), key(3), key(4), key(6)}
    assert progress.blocking == ("local#1", "local#2", "local#3", "local#4", "other/repo#7")


def test_a_milestone_is_completed_by_the_issue_that_ended_last() -> None:
    events = seen(issue(1), issue(2, deps=[1]), issue(3))
    events += ran(1, T0 + 10) + ran(3, T0 + 30) + ran(2, T0 + 20)
    snapshot = snapshot_of(events)
    progress = progress_of(snapshot, "local", "v1.0")
    assert progress is not None and progress.complete
    assert [n for n in (1, 2, 3) if completed_by(snapshot, progress, key(n))] == [3]


def test_closed_upstream_counts_as_done_and_done_when_closed_waits_for_it() -> None:
    events = seen(issue(1), issue(2)) + ran(1) + ran(2)
    events += seen(issue(1, closed=True))
    snapshot = snapshot_of(events)
    by_success = progress_of(snapshot, "local", "v1.0")
    by_merge = progress_of(snapshot, "local", "v1.0", done_when="closed")
    assert by_success is not None and by_success.complete
    assert by_merge is not None and by_merge.done == (key(1),) and by_merge.awaiting_merge == (key(2),)


def test_an_issue_that_left_the_work_is_not_counted() -> None:
    events = seen(issue(1), issue(2)) + ran(1) + [ev.IssueGone(ts=T0, issue=key(2), reason="unlabeled")]
    progress = progress_of(snapshot_of(events), "local", "v1.0")
    assert progress is not None and progress.issues == (key(1),) and progress.complete


def test_integration_order_follows_dependencies_through_issues_outside_the_set() -> None:
    events = seen(issue(3, deps=[7]), issue(7, milestone=None, deps=[9]), issue(9), issue(1))
    assert integration_order(snapshot_of(events), [key(3), key(9), key(1)]) == [key(1), key(9), key(3)]


def test_as_dict_is_plain_data() -> None:
    progress = milestone_progress(snapshot_of(seen(issue(1)) + [started(1), failed(1)]))[0]
    assert progress.as_dict()["failed"] == [key(1)] and progress.as_dict()["complete"] is False
