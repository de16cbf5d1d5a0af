"""Graham's bound as an oracle: it holds for list schedules and catches one that idles a slot."""

from __future__ import annotations

from dataclasses import replace

import pytest

from waterspider_tui.simulation.metrics import bounds
from waterspider_tui.simulation.report import summarize
from waterspider_tui.simulation.simulator import Schedule
from waterspider_tui.simulation.workload import SimIssue, Workload

WORKLOAD = Workload((SimIssue(1, "P1", 10, 10), SimIssue(2, "P1", 10, 10), SimIssue(3, "P1", 10, 10), SimIssue(4, "P0", 30, 30, (1,))))


def schedule(start: dict[int, float]) -> Schedule:
    by_number = WORKLOAD.by_number()
    end = {number: at + by_number[number].actual_min for number, at in start.items()}
    return Schedule(WORKLOAD, 2, "hand", start, end, plan_calls=0, idle_while_ready=0, unscheduled=())


def test_bounds_by_hand() -> None:
    limits = bounds(WORKLOAD)
    assert (limits.critical_path, limits.total_work, limits.longest_task) == (40, 60, 30)
    assert limits.lower_bound(2) == 40
    assert limits.graham_bound(2) == pytest.approx(60 / 2 + 0.5 * 40)


def test_a_list_schedule_passes_and_an_idling_one_is_caught() -> None:
    good = summarize(schedule({1: 0, 2: 0, 3: 10, 4: 10}))
    assert good.graham_ok and good.makespan == 40 and good.makespan_ratio == 1.0
    idling = summarize(schedule({1: 0, 2: 45, 3: 45, 4: 10}))  # a slot sat idle from 10 to 45 with #2 ready
    assert idling.makespan == 55 > idling.graham_bound and not idling.graham_ok


def test_release_times_shift_the_bound() -> None:
    late = Workload(tuple(replace(issue, created=100.0) if issue.number == 3 else issue for issue in WORKLOAD.issues))
    assert bounds(late).graham_bound(2) == pytest.approx(100 + 60 / 2 + 0.5 * 40)
    assert bounds(late).lower_bound(2) == 110
