"""The long-pole margin learned from how far estimates missed: finished sessions, and running
ones already past their estimate; kept between `pole_margin` and `pole_margin_max`, and said."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from core_builders import T0, finished, issue, key, snapshot, started
from waterspider_tui.core.estimate_spread import Spread, SpreadTracker
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.priority import PriorityConfig
from waterspider_tui.core.scheduler import SchedulerConfig, plan
from waterspider_tui.core.state import Snapshot

CONFIG = SchedulerConfig(capacity=2, other_share=0)
HISTORY = tuple(range(50, 70))
"""Twenty finished issues of 10 minutes as estimated (`pole_margin_samples`)."""


def backlog_after(took_min: float) -> Snapshot:
    """#1 (P3, 100m) among ten P1s of 50m on 2 slots (300m left), after twenty 10m issues took `took_min` each."""
    history = [issue(number, estimate=10) for number in HISTORY]
    ready = [issue(1, labels=["P3"], estimate=100), *(issue(n, labels=["P1"], estimate=50) for n in range(10, 20))]
    events = [event for number in HISTORY for event in (started(number), finished(number, duration_s=took_min * 60))]
    return snapshot(*history, *ready, events=events)


def test_a_long_pole_counts_its_estimate_by_how_far_estimates_missed() -> None:
    # each took e times its estimate: a spread of 1, so its 100m count 100 × exp(1/2) = 165m, lead 330m > 300m left
    missed = backlog_after(10 * math.e)
    result = plan(missed, T0, CONFIG)
    assert result.ready_keys()[0] == key(1)
    assert result.ready[0].score.pole == (
        "on the critical path: a 100m chain (its estimate ×1.65: estimates miss ×2.7), 300m of the run left; "
        "P0 work may hold it back 175m more"
    )
    assert result.dispatch[0] == key(1)
    # the detail view's explanation carries the same line
    assert "(its estimate ×1.65: estimates miss ×2.7)" in result.ready[0].score.explain()

    # counted 1.15 times (lead 230m) it could still wait 70m: the P1s go first by score per hour
    fixed = plan(missed, T0, SchedulerConfig(capacity=2, other_share=0, learn_pole_margin=False))
    assert key(1) not in fixed.dispatch
    assert not any(item.score.critical for item in fixed.ready)


def test_estimates_that_held_leave_the_margin_as_configured() -> None:
    result = plan(backlog_after(11), T0, CONFIG)
    assert key(1) not in result.dispatch
    assert not any(item.score.critical for item in result.ready)


def test_the_margin_moves_only_after_enough_sessions() -> None:
    missed = backlog_after(10 * math.e)
    assert plan(missed, T0, replace(CONFIG, pole_margin_samples=21)).ready[0].issue != key(1)
    assert plan(missed, T0, replace(CONFIG, pole_margin_samples=20)).ready[0].issue == key(1)


def test_a_running_session_past_its_estimate_counts_toward_the_spread() -> None:
    # four sessions took their estimate exactly; a fifth has run 30m of its 10m
    state = snapshot(*(issue(n, estimate=10) for n in range(1, 6)),
                     events=[*(event for n in range(1, 5) for event in (started(n), finished(n, duration_s=600))), started(5)])
    succeeded = {k: task for k, task in state.tasks.items() if task.state is TaskState.SUCCEEDED}
    running = [task for task in state.tasks.values() if task.state is TaskState.RUNNING]
    tracker = SpreadTracker(PriorityConfig(), min_samples=5)

    assert tracker.observe(succeeded, running, T0 + 5 * 60) is None  # within its estimate: four samples, too few
    spread = tracker.observe(succeeded, running, T0 + 30 * 60)
    assert spread == Spread(pytest.approx(math.log(3) / math.sqrt(5)), 5)
    # the same snapshot gives the same spread to a tracker that saw nothing before
    assert SpreadTracker(PriorityConfig(), min_samples=5).observe(succeeded, running, T0 + 30 * 60) == spread


def test_the_margin_stays_between_the_floor_and_the_ceiling() -> None:
    assert Spread(0.3, 10).margin(1.15, 1.65) == 1.15
    assert Spread(0.8, 10).margin(1.15, 1.65) == pytest.approx(math.exp(0.32))
    assert Spread(2.0, 10).margin(1.15, 1.65) == 1.65
    assert Spread(1.0, 10).typical_miss == pytest.approx(math.e)


@pytest.mark.parametrize("settings", [
    {"pole_margin": 0.9}, {"pole_margin": 2.0, "pole_margin_max": 1.5}, {"other_share": 1.5},
    {"pole_hold_share": -0.1}, {"critical_share": 2.0}, {"pole_margin_samples": 0},
])
def test_out_of_range_knobs_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="scheduler"):
        SchedulerConfig(**settings)  # type: ignore[arg-type]
