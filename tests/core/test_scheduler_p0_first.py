"""P0 work first: P0s and what they wait on go ahead of other ready work, the P0 that can be done
soonest first; pins, long poles and bumps still go before it. And P3s go longest first."""

from __future__ import annotations

from core_builders import T0, clock, finished, issue, key, snapshot, started
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue
from waterspider_tui.core.priority import PriorityConfig
from waterspider_tui.core.scheduler import Plan, SchedulerConfig, plan
from waterspider_tui.core.state import apply_all

NOW = clock().now()
TWO_WEEKS_S = 14 * 24 * 3600.0
NO_POLES = SchedulerConfig(critical_share=0)
"""Long poles aside: these tests are about the order below them."""


def firsts(result: Plan) -> dict[str, str]:
    return {item.issue: item.score.first for item in result.ready}


def test_p0s_go_ahead_of_a_short_old_p1_and_shortest_first() -> None:
    # the P1's time and age parts outweigh the label gap of 0.15 over the long P0
    snap = snapshot(
        issue(1, labels=["P1"], estimate=5, created=T0 - TWO_WEEKS_S),
        issue(2, labels=["P0"], estimate=150),
        issue(3, labels=["P0"], estimate=20),
    )
    result = plan(snap, NOW, NO_POLES)
    assert result.ready_keys() == [key(3), key(2), key(1)]
    scores = {item.issue: item.score for item in result.ready}
    assert scores[key(1)].total > scores[key(2)].total
    assert firsts(result) == {key(3): "P0 first: done in 20m at the soonest", key(2): "P0 first: done in 150m at the soonest", key(1): ""}
    assert scores[key(2)].explain().endswith("P0 first: done in 150m at the soonest")

    # without P0 first the rest go by score per hour: the 5-minute P1 before both P0s
    off = plan(snap, NOW, SchedulerConfig(critical_share=0, priority=PriorityConfig(first_level="")))
    assert off.ready_keys() == [key(1), key(3), key(2)]
    assert not any(firsts(off).values())


def test_what_a_p0_waits_on_goes_first_for_the_p0_done_soonest() -> None:
    # #10 (P0, 30m) waits on #11 (P3, 60m): done in 90m at the soonest, before the ready P0 #20 (200m)
    snap = snapshot(
        issue(10, labels=["P0"], estimate=30, deps=[11]), issue(11, labels=["P3"], estimate=60),
        issue(20, labels=["P0"], estimate=200), issue(30, labels=["P1"], estimate=10, created=T0 - TWO_WEEKS_S),
    )
    result = plan(snap, NOW, NO_POLES)
    assert result.ready_keys() == [key(11), key(20), key(30)]
    assert firsts(result)[key(11)] == "P0 first: #10 (P0) waits on it, done in 90m at the soonest"
    # the score alone (the P3 counts like a P1 for its P0) would start the short old P1 first
    scores = {item.issue: item.score for item in result.ready}
    assert scores[key(30)].total > scores[key(11)].total

    done = apply_all(snap, [started(11), finished(11)])
    result = plan(done, NOW, NO_POLES)
    assert result.ready_keys() == [key(10), key(20), key(30)]
    assert firsts(result)[key(10)] == "P0 first: done in 30m at the soonest"


def test_the_p0_figures_follow_finished_blockers_as_a_fresh_plan_would() -> None:
    def backlog() -> list[Issue]:
        # #3 (P0) waits on #2, which waits on #1: 150m away; #4 (P0) is 100m away
        return [
            issue(1, labels=["P2"], estimate=60), issue(2, labels=["P3"], estimate=60, deps=[1]),
            issue(3, labels=["P0"], estimate=30, deps=[2]), issue(4, labels=["P0"], estimate=100),
        ]

    snap = snapshot(*backlog())
    result = plan(snap, NOW, NO_POLES)
    assert result.ready_keys() == [key(4), key(1)]
    assert firsts(result)[key(1)] == "P0 first: #3 (P0) waits on it, done in 150m at the soonest"

    # #1 done: #3 is 90m away, sooner than #4; figures carried forward, then rebuilt from scratch
    carried = plan(apply_all(snap, [started(1), finished(1)]), NOW, NO_POLES)
    rebuilt = plan(snapshot(*backlog(), events=[started(1), finished(1)]), NOW, NO_POLES)
    assert carried.ready_keys() == rebuilt.ready_keys() == [key(2), key(4)]
    assert firsts(carried) == firsts(rebuilt)
    assert firsts(carried)[key(2)] == "P0 first: #3 (P0) waits on it, done in 90m at the soonest"


def test_pins_and_bumps_go_before_p0_work_and_a_lowered_p0_leaves_it() -> None:
    snap = snapshot(
        issue(1, labels=["P0"], estimate=30), issue(2, labels=["P2"]), issue(3, labels=["P3"]),
        issue(4, labels=["P0"], estimate=60), issue(5, labels=["P1"]),
        issue(6, labels=["P3"], estimate=60), issue(7, labels=["P0"], deps=[6]),
        events=[
            ev.PriorityBumped(ts=T0, issue=key(2), delta=1, by="op"),
            ev.IssuePinned(ts=T0, issue=key(3), pinned=True, by="op"),
            ev.PriorityBumped(ts=T0, issue=key(4), delta=-1, by="op"),
        ],
    )
    result = plan(snap, NOW, NO_POLES)
    # pinned; bumped up; P0 work (#1, then #6 for #7); the rest by score, the lowered P0 among them
    assert result.ready_keys() == [key(3), key(2), key(1), key(6), key(4), key(5)]
    assert firsts(result)[key(4)] == "" and firsts(result)[key(2)] == ""
    assert result.ready[4].score.explain().endswith("bump -1")


def test_long_poles_still_go_before_p0_work() -> None:
    # #1 (P3) starts a chain of 540m, more than half of what is left of the run
    snap = snapshot(
        issue(1, labels=["P3"], estimate=60), issue(2, deps=[1], estimate=240), issue(3, deps=[2], estimate=240),
        issue(5, labels=["P0"], estimate=30),
    )
    result = plan(snap, NOW)
    assert result.ready_keys() == [key(1), key(5)]
    assert result.ready[0].score.critical and result.ready[1].score.first


def test_p3s_go_longest_first_after_the_rest_and_the_rest_by_score_per_hour() -> None:
    snap = snapshot(
        issue(1, labels=["P3"], estimate=10), issue(2, labels=["P3"], estimate=200),
        issue(3, labels=["P2"], estimate=200), issue(4, labels=["P2"], estimate=10),
    )
    result = plan(snap, NOW, NO_POLES)
    assert result.ready_keys() == [key(4), key(3), key(2), key(1)]
    time_parts = {item.issue: item.score.parts[1] for item in result.ready}
    assert time_parts[key(2)].explanation == "estimate 200m, P3s longest first"
    assert time_parts[key(2)].value > time_parts[key(1)].value
    assert time_parts[key(4)].value > time_parts[key(3)].value

    # without it P3s go by score per hour among the rest: a 10-minute P3 before a 200-minute P2
    off = plan(snap, NOW, SchedulerConfig(critical_share=0, priority=PriorityConfig(longest_first_level="")))
    assert off.ready_keys() == [key(4), key(1), key(3), key(2)]
    assert plan(snap, NOW, SchedulerConfig(ordering="seed", critical_share=0)).ready_keys() == [key(4), key(3), key(1), key(2)]
