"""The simulator runs the real plan(): dependency order, capacity, no idle slot, Graham's bound."""

from __future__ import annotations

import pytest

from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.simulation.generator import FAMILIES, generate
from waterspider_tui.simulation.metrics import bounds, earliest_finish, p0_stretch, weighted_completion
from waterspider_tui.simulation.policies import POLICIES, policy_config
from waterspider_tui.simulation.simulator import simulate
from waterspider_tui.simulation.workload import SimIssue, Workload


def workload(*issues: SimIssue) -> Workload:
    return Workload(tuple(issues))


def test_two_slots_by_hand() -> None:
    # #1 (30) and #2 (10) at once; #3 (20) waits on #2; #4 (5) on #1 and #3
    w = workload(
        SimIssue(1, "P2", 30, 30), SimIssue(2, "P1", 10, 10), SimIssue(3, "P1", 20, 20, (2,)), SimIssue(4, "P0", 5, 5, (1, 3)),
    )
    schedule = simulate(w, SchedulerConfig(capacity=2))
    assert schedule.start == {1: 0, 2: 0, 3: 10, 4: 30}
    assert schedule.end == {1: 30, 2: 10, 3: 30, 4: 35}
    assert schedule.makespan == 35
    assert earliest_finish(w) == {1: 30, 2: 10, 3: 30, 4: 35}
    assert p0_stretch(w, schedule.end) == 1.0
    assert weighted_completion(w, schedule.end) == pytest.approx(0.4 * 30 + 0.7 * 10 + 0.7 * 30 + 1.0 * 35)


def test_true_durations_drive_the_clock_and_estimates_the_order() -> None:
    # estimates say #2 is short, so it goes first; it really takes 50
    w = workload(SimIssue(1, "P2", 40, 10), SimIssue(2, "P2", 5, 50))
    schedule = simulate(w, SchedulerConfig(capacity=1, critical_share=0))
    assert schedule.start == {2: 0, 1: 50}
    assert schedule.end == {2: 50, 1: 60}


def test_issues_that_appear_later_wait_for_their_release() -> None:
    w = workload(SimIssue(1, "P2", 10, 10), SimIssue(2, "P0", 10, 10, created=25))
    schedule = simulate(w, SchedulerConfig(capacity=4))
    assert schedule.start == {1: 0, 2: 25}
    assert bounds(w).lower_bound(4) == 35


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_respects_dependencies_capacity_and_graham(family: str, policy: str) -> None:
    w = generate(family, 60, seed=11)
    slots = 4
    schedule = simulate(w, policy_config(policy, slots), policy)
    assert schedule.unscheduled == () and set(schedule.end) == {issue.number for issue in w.issues}
    for issue in w.issues:
        assert schedule.end[issue.number] == pytest.approx(schedule.start[issue.number] + issue.actual_min)
        assert all(schedule.start[issue.number] >= schedule.end[dep] for dep in issue.depends_on)
    moments = sorted(set(schedule.start.values()))
    for moment in moments:
        running = sum(1 for n in schedule.start if schedule.start[n] <= moment < schedule.end[n])
        assert running <= slots
    assert schedule.idle_while_ready == 0
    limits = bounds(w)
    assert limits.lower_bound(slots) <= schedule.makespan <= limits.graham_bound(slots) + 1e-6


def test_policies_order_differently() -> None:
    w = workload(
        SimIssue(1, "P3", 100, 100, created=-300), SimIssue(2, "P0", 10, 10, created=-10),
        SimIssue(3, "P1", 30, 30, created=-100), SimIssue(4, "P3", 20, 20, (1,), created=-200),
    )
    first = {policy: min(simulate(w, policy_config(policy, 1)).start.items(), key=lambda item: item[1])[0] for policy in POLICIES}
    assert first["fifo"] == 1          # oldest
    assert first["priority"] == 2      # P0
    assert first["critical-path"] == 1  # 100 + 20 waits on it
    assert first["seed"] == 2


def test_a_simulation_touches_no_clock_and_is_repeatable() -> None:
    w = generate("layered", 80, seed=5)
    first = simulate(w, policy_config("ours", 6))
    again = simulate(w, policy_config("ours", 6))
    assert (first.start, first.end) == (again.start, again.end)
    assert first.plan_calls <= len(w.issues) + 1
