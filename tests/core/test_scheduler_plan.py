"""The scheduler: from a snapshot to ready, blocked and what to start now."""

from __future__ import annotations

from core_builders import T0, clock, finished, issue, key, seen, snapshot, started
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome
from waterspider_tui.core.scheduler import BlockedTask, Plan, SchedulerConfig, plan
from waterspider_tui.core.state import apply_all

NOW = clock().now()


def blocked_by_issue(result: Plan) -> dict[str, BlockedTask]:
    return {item.issue: item for item in result.blocked}


def test_ready_tasks_are_sorted_by_score() -> None:
    snap = snapshot(issue(1, labels=["P2-Medium"]), issue(2, labels=["P0-Critical"]), issue(3, labels=["P1-High"]), issue(4))
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(2), key(3), key(1), key(4)]
    assert [item.score.level for item in result.ready] == ["P0", "P1", "P2", ""]
    totals = [item.score.total for item in result.ready]
    assert totals == sorted(totals, reverse=True) and len(set(totals)) == 4
    assert result.blocked == ()
    assert result.dispatch == (key(2), key(3), key(1), key(4))


def test_equal_scores_go_oldest_first_then_by_number() -> None:
    snap = snapshot(issue(10), issue(9), issue(2, created=T0 - 1), issue(3, created=T0 - 1))
    assert plan(snap, T0).ready_keys() == [key(2), key(3), key(9), key(10)]


def test_bumps_reorder_and_pinned_goes_first() -> None:
    snap = snapshot(
        issue(1, labels=["P0"]), issue(2, labels=["P2"]), issue(3, labels=["P3"]),
        events=[ev.PriorityBumped(ts=T0, issue=key(2), delta=4, by="op"), ev.IssuePinned(ts=T0, issue=key(3), pinned=True, by="op")],
    )
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(3), key(2), key(1)]
    assert result.ready[0].score.pinned
    # a bumped P2 goes ahead of P0 work; 4 steps (+0.4) also pass the P0's score (0.5 × (1.0 − 0.4) = 0.3 ahead)
    assert result.ready[1].score.total > result.ready[2].score.total
    unpinned = apply_all(snap, [ev.IssuePinned(ts=T0, issue=key(3), pinned=False, by="op")])
    assert plan(unpinned, NOW).ready_keys() == [key(2), key(1), key(3)]


def test_paused_issue_is_blocked_and_resumes() -> None:
    snap = snapshot(issue(1, labels=["P0"]), issue(2), events=[ev.IssuePaused(ts=T0, issue=key(1), by="op")])
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(2)]
    assert blocked_by_issue(result)[key(1)].reason == "paused"
    resumed = apply_all(snap, [ev.IssueResumed(ts=T0, issue=key(1), by="op")])
    assert plan(resumed, NOW).ready_keys() == [key(1), key(2)]


def test_held_issue_is_blocked_with_the_reason_and_released_by_an_empty_reason() -> None:
    snap = snapshot(issue(1), issue(2), events=[ev.IssueHeld(ts=T0, issue=key(1), reason="label added by an untrusted user")])
    blocked = blocked_by_issue(plan(snap, NOW))[key(1)]
    assert (blocked.reason, blocked.detail) == ("held", "label added by an untrusted user")
    released = apply_all(snap, [ev.IssueHeld(ts=T0, issue=key(1), reason="")])
    assert plan(released, NOW).ready_keys() == [key(1), key(2)]


def test_dependency_waits_until_it_succeeds() -> None:
    snap = snapshot(issue(1), issue(2, deps=[1]), issue(3, body="blocked by #2"))
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(1)]
    blocked = blocked_by_issue(result)
    assert blocked[key(2)].reason == "dependency" and blocked[key(2)].waiting_on == (key(1),)
    assert blocked[key(3)].reason == "dependency" and blocked[key(3)].waiting_on == (key(2),)
    assert blocked[key(2)].detail == "waits on #1 (queued)"

    running = apply_all(snap, [started(1)])
    result = plan(running, NOW)
    assert result.running == (key(1),)
    assert blocked_by_issue(result)[key(2)].detail == "waits on #1 (running)"

    done = apply_all(running, [finished(1)])
    result = plan(done, NOW)
    assert result.ready_keys() == [key(2)]
    assert blocked_by_issue(result)[key(3)].waiting_on == (key(2),)


def test_failed_dependency_blocks_with_its_own_reason() -> None:
    snap = snapshot(issue(1), issue(2), issue(3, deps=[1, 2]), events=[started(1), finished(1, Outcome.FAILED), started(2)])
    blocked = blocked_by_issue(plan(snap, NOW))[key(3)]
    assert blocked.reason == "failed_dependency"
    assert blocked.waiting_on == (key(1), key(2))
    assert blocked.detail == "waits on #1 (failed), #2 (running)"
    cancelled = snapshot(issue(1), issue(3, deps=[1]), events=[started(1), finished(1, Outcome.CANCELLED)])
    assert blocked_by_issue(plan(cancelled, NOW))[key(3)].reason == "failed_dependency"
    requeued = apply_all(snap, [ev.IssueRequeued(ts=T0, issue=key(1), by="op")])
    result = plan(requeued, NOW)
    assert blocked_by_issue(result)[key(3)].reason == "dependency"
    assert key(1) in result.ready_keys()


def test_closed_dependencies_count_as_satisfied() -> None:
    snap = snapshot(
        issue(1, closed=True),                                   # seen closed: GONE
        issue(2),
        issue(3, deps=[1]),
        issue(4, deps=["x/y#7"], external_closed=["x/y#7"]),
        issue(5, deps=[2]),
        events=[ev.IssueGone(ts=T0, issue=key(2), reason="closed upstream")],
    )
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(3), key(4), key(5)]
    assert result.unknown_refs == ()


def test_a_running_dependency_closed_upstream_counts_as_satisfied() -> None:
    snap = snapshot(issue(1), issue(2, deps=[1]), events=[started(1), *seen(issue(1, closed=True))])
    result = plan(snap, NOW)
    assert result.running == (key(1),)
    assert result.ready_keys() == [key(2)]


def test_external_open_dependency_blocks() -> None:
    snap = snapshot(issue(1, body="depends on x/y#7", external_open=["x/y#7"]))
    result = plan(snap, NOW)
    blocked = blocked_by_issue(result)[key(1)]
    assert (blocked.reason, blocked.waiting_on) == ("dependency", ("x/y#7",))
    assert "x/y#7 (open, not queued here)" in blocked.detail
    assert result.unknown_refs == ()


def test_unknown_references_warn_but_do_not_block() -> None:
    snap = snapshot(issue(1, body="depends on #99 and other/repo#5"), issue(2, deps=[98]))
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(1), key(2)]
    assert result.unknown_refs == ((key(1), key(99)), (key(1), "other/repo#5"), (key(2), key(98)))


def test_cycle_members_are_held_and_the_rest_of_the_graph_keeps_going() -> None:
    snap = snapshot(
        issue(1, deps=[2]), issue(2, deps=[1]),     # a 2-cycle
        issue(3, deps=[1]),                        # waits on the cycle
        issue(4), issue(5, deps=[4]),              # unaffected
        issue(6, body="blocked by #8"), issue(7, body="after #6"), issue(8, body="requires #7"),  # a 3-cycle
    )
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(4)]
    assert result.dispatch == (key(4),)
    assert result.cycles == ((key(1), key(2)), (key(6), key(7), key(8)))
    blocked = blocked_by_issue(result)
    for member, cycle in [(1, (key(1), key(2))), (2, (key(1), key(2))), (6, (key(6), key(7), key(8))), (8, (key(6), key(7), key(8)))]:
        assert (blocked[key(member)].reason, blocked[key(member)].cycle) == ("cycle", cycle)
    assert blocked[key(1)].detail == "cycle #1 → #2 → #1"
    assert blocked[key(3)].reason == "dependency"
    assert blocked[key(5)].waiting_on == (key(4),)
    assert [item.issue for item in result.blocked] == [key(n) for n in (1, 2, 3, 5, 6, 7, 8)]


def test_a_component_with_two_cycles_does_not_crash_the_plan() -> None:
    snap = snapshot(issue(1, deps=[2, 4]), issue(2, deps=[1]), issue(3, deps=[2, 4]), issue(4, deps=[3]), issue(5))
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(5)]
    assert {item.issue for item in result.blocked} == {key(1), key(2), key(3), key(4)}
    assert result.cycles[0][0] == key(1)


def test_retry_backoff_waits_then_becomes_ready() -> None:
    snap = snapshot(
        issue(1),
        events=[started(1), finished(1, Outcome.FAILED), ev.RetryScheduled(ts=T0, issue=key(1), not_before=T0 + 30, error_class="crashed")],
    )
    waiting = blocked_by_issue(plan(snap, T0 + 10))[key(1)]
    assert waiting.reason == "retry_wait"
    assert "20s" in waiting.detail
    assert plan(snap, T0 + 30).ready_keys() == [key(1)]
    assert plan(snap, T0 + 31).dispatch == (key(1),)


def test_dispatch_fills_only_free_slots_with_running_counted() -> None:
    issues = [issue(n, labels=[f"P{n % 4}"]) for n in range(1, 9)]
    snap = snapshot(*issues, events=[started(1), started(2)])
    result = plan(snap, NOW, SchedulerConfig(capacity=3))
    assert result.running == (key(1), key(2))
    assert result.free_slots == 1
    assert len(result.ready) == 6
    assert result.dispatch == (result.ready_keys()[0],) == (key(4),)

    full = plan(apply_all(snap, [started(3)]), NOW, SchedulerConfig(capacity=3))
    assert (full.free_slots, full.dispatch) == (0, ())
    over = plan(apply_all(snap, [started(3), started(5)]), NOW, SchedulerConfig(capacity=3))
    assert (over.free_slots, over.dispatch) == (0, ())

    roomy = plan(snap, NOW, SchedulerConfig(capacity=10))
    assert roomy.free_slots == 8
    assert roomy.dispatch == tuple(roomy.ready_keys())


def test_paused_dispatcher_dispatches_nothing_until_resumed_or_the_pause_expires() -> None:
    snap = snapshot(issue(1), issue(2), events=[ev.DispatcherPaused(ts=T0, by="op", reason="lunch")])
    result = plan(snap, NOW)
    assert result.dispatch == ()
    assert result.ready_keys() == [key(1), key(2)], "paused still shows the order"
    resumed = apply_all(snap, [ev.DispatcherResumed(ts=T0, by="op")])
    assert plan(resumed, NOW).dispatch == (key(1), key(2))

    limited = snapshot(issue(1), events=[ev.DispatcherPaused(ts=T0, by="engine", reason="usage limit", until=T0 + 600)])
    assert plan(limited, T0 + 599).dispatch == ()
    assert plan(limited, T0 + 600).dispatch == (key(1),)
    assert plan(limited, T0 + 3600).dispatch == (key(1),)


def test_task_on_the_critical_path_jumps_the_queue() -> None:
    # #1 (P3) unblocks a long chain; #5 (P0) unblocks nothing
    snap = snapshot(
        issue(1, labels=["P3"], estimate=60), issue(2, deps=[1], estimate=240), issue(3, deps=[2], estimate=240),
        issue(5, labels=["P0"], estimate=30),
    )
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(1), key(5)]
    assert result.ready[0].score.critical and not result.ready[1].score.critical
    assert result.ready[0].score.total < result.ready[1].score.total
    off = plan(snap, NOW, SchedulerConfig(critical_share=0))
    assert off.ready_keys() == [key(5), key(1)]


def test_deps_part_rewards_what_a_task_unblocks() -> None:
    snap = snapshot(issue(1), issue(2), issue(3, deps=[1], estimate=120), issue(4, deps=[3], estimate=120))
    result = plan(snap, NOW, SchedulerConfig(critical_share=0))
    parts = {item.issue: item.score.parts_dict() for item in result.ready}
    assert parts[key(1)]["deps"] == 0.2
    assert parts[key(2)]["deps"] == 0.0
    assert result.ready_keys() == [key(1), key(2)]


def test_finished_tasks_are_neither_ready_nor_blocked() -> None:
    snap = snapshot(issue(1), issue(2), issue(3), events=[started(1), finished(1), started(2), finished(2, Outcome.FAILED)])
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(3)]
    assert result.blocked == () and result.running == ()


def test_same_input_same_plan_whatever_the_insertion_order() -> None:
    issues = [issue(n, labels=[f"P{n % 4}"], deps=[n - 3] if n > 3 else [], created=T0 - n * 60) for n in range(1, 40)]
    issues += [issue(50, deps=[51]), issue(51, deps=[50]), issue(60, body="depends on #404")]
    forward = snapshot(*issues)
    backward = snapshot(*reversed(issues))
    first = plan(forward, NOW)
    assert plan(forward, NOW) == first
    assert plan(backward, NOW) == first
    assert set(first.ready_keys()) == {key(1), key(2), key(3), key(60)}
    assert first.unknown_refs == ((key(60), key(404)),)
    assert first.cycles == ((key(50), key(51)),)


def test_plan_does_not_change_the_snapshot() -> None:
    snap = snapshot(issue(1), issue(2, deps=[1]))
    before = (dict(snap.tasks), snap.seq)
    plan(snap, NOW)
    assert (dict(snap.tasks), snap.seq) == before


def test_ten_thousand_tasks() -> None:
    # 1,000 chains of ten: the head of each is ready, the rest wait on the one before;
    # 20 more issues in 10 two-cycles; every third chain head paused.
    issues = []
    for number in range(1, 10_001):
        head = number % 10 == 1
        issues.append(issue(number, labels=[f"P{(number // 10) % 4}"], deps=[] if head else [number - 1], created=T0 - number))
    issues += [issue(n, deps=[n + 1 if n % 2 else n - 1]) for n in range(20_001, 20_021)]
    heads = [n for n in range(1, 10_001, 10)]
    paused = [ev.IssuePaused(ts=T0, issue=key(n), by="op") for n in heads[::3]]
    snap = snapshot(*issues, events=paused)
    result = plan(snap, NOW, SchedulerConfig(capacity=7))

    expected_ready = {key(n) for n in heads} - {key(n) for n in heads[::3]}
    assert set(result.ready_keys()) == expected_ready
    assert len(result.ready) + len(result.blocked) == 10_020
    reasons = [item.reason for item in result.blocked]
    assert reasons.count("paused") == len(heads[::3]) == 334
    assert reasons.count("cycle") == 20
    assert reasons.count("dependency") == 9_000
    assert len(result.cycles) == 10
    assert all(item.waiting_on == (key(int(item.issue.split("#")[1]) - 1),) for item in result.blocked if item.reason == "dependency")
    assert not any(item.score.critical for item in result.ready)
    p0_work = [item for item in result.ready if item.score.first]
    # P0 work (the P0 heads, and the P3 heads of chains that end in a P0: 332 not paused) goes ahead
    # of the rest, but takes at most 6 of the 7 slots while other work waits: the best other task is 7th
    assert len(p0_work) == 332
    assert result.ready[:6] == tuple(p0_work[:6]) and not result.ready[6].score.first
    assert [item.issue for item in result.ready[7:333]] == [item.issue for item in p0_work[6:]]
    assert result.ready[7].score.held == "P0 work takes at most 6 of 7 slots while other work waits" and not result.ready[8].score.held
    # the rest by score per hour: all take the default 60m here (the P3 heads are P0 work)
    totals = [item.score.total for item in (result.ready[6], *result.ready[333:])]
    assert totals == sorted(totals, reverse=True)
    assert result.dispatch == tuple(result.ready_keys()[:7])
    assert all(item.score.level == "P0" for item in result.ready[:6])
