"""A Planner keeps its own memos: plans equal to a fresh planner's, nothing shared between planners,
no mutable state at module level in the scheduling modules."""

from __future__ import annotations

import importlib
import types

import pytest
from core_builders import T0, finished, issue, snapshot, started
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import Plan, Planner, SchedulerConfig, plan
from waterspider_tui.core.state import apply_all

SCHEDULING_MODULES = (
    "waterspider_tui.core.scheduler", "waterspider_tui.core.schedule_structure", "waterspider_tui.core.priority",
    "waterspider_tui.core.estimates", "waterspider_tui.core.dag", "waterspider_tui.core.readiness",
)


def figures(result: Plan) -> tuple[object, ...]:
    return (result.ready, result.blocked, result.dispatch, result.running, result.unknown_refs, result.cycles)


def test_a_kept_planner_plans_as_a_fresh_one_event_after_event() -> None:
    snap = snapshot(
        issue(1, labels=["P3"], estimate=120), issue(2, labels=["P0"], estimate=30, deps=[1]),
        issue(3, labels=["P1"], estimate=20), issue(4, labels=["P2"], deps=[3, 99]), issue(5, labels=["P0"], estimate=200),
        issue(6, deps=[7]), issue(7, deps=[6]),
    )
    config = SchedulerConfig(capacity=2)
    planner = Planner(config)
    steps = [[started(1), started(3)], [finished(3, ts=T0 + 600)], [started(5)], [finished(1, ts=T0 + 7200)],
             [ev.PriorityBumped(ts=T0, issue="o/r#4", delta=1, by="op")], [started(2), finished(2, ts=T0 + 9000)]]
    now = T0
    for events in steps:
        snap = apply_all(snap, events)
        now += 1800
        assert figures(planner.plan(snap, now)) == figures(plan(snap, now, config)) == figures(Planner(config).plan(snap, now))


def test_planners_share_nothing() -> None:
    snap = snapshot(issue(1, labels=["P1"], estimate=30), issue(2, labels=["P0"], estimate=60))
    first, second = Planner(SchedulerConfig(capacity=1)), Planner(SchedulerConfig(capacity=1, ordering="fifo"))
    assert first.plan(snap, T0).dispatch == ("o/r#2",)
    assert second.plan(snap, T0).dispatch == ("o/r#1",)
    assert first.config.ordering == "ours" and first.plan(snap, T0).dispatch == ("o/r#2",)
    assert not {id(value) for value in vars(first).values()} & {id(value) for value in vars(second).values()}


@pytest.mark.parametrize("name", SCHEDULING_MODULES)
def test_no_mutable_state_at_module_level(name: str) -> None:
    module = importlib.import_module(name)
    mutable = [
        attr for attr, value in vars(module).items()
        if not attr.startswith("__") and isinstance(value, (dict, list, set, bytearray))
        and not isinstance(value, types.MappingProxyType)
    ]
    assert mutable == []
