"""Long poles: due when their slack is gone or the next free slot comes too late; P0 work may hold
one back until its chain is `pole_hold_share` of what is left; other work keeps a share of the slots."""

from __future__ import annotations

import pytest
from core_builders import clock, finished, issue, key, snapshot, started
from waterspider_tui.core.long_poles import Pole, long_poles
from waterspider_tui.core.priority import PriorityConfig
from waterspider_tui.core.schedule_structure import Analyser
from waterspider_tui.core.scheduler import SchedulerConfig, plan
from waterspider_tui.core.state import apply_all

NOW = clock().now()
NO_GUARD = SchedulerConfig(capacity=2, other_share=0)
HOLD_HALF = SchedulerConfig(capacity=2, other_share=0, pole_hold_share=0.5)
"""P0 work holding a pole back only until its chain is half of what is left (the default is 0.8)."""


def test_p0_work_holds_a_long_pole_back_until_its_chain_is_most_of_what_is_left() -> None:
    # #1 (P3, 100m) against six P0s of 30m on 2 slots: 140m left, its lead 1.15 × 100 / 0.5 = 230m
    backlog = [issue(1, labels=["P3"], estimate=100), *(issue(n, labels=["P0"], estimate=30) for n in range(10, 16))]
    # holding it back only to half of what is left, its chain is already more: it goes first at once
    assert plan(snapshot(*backlog), NOW, HOLD_HALF).ready[0].score.pole.endswith("140m of the run left; it goes before P0 work")
    result = plan(snapshot(*backlog), NOW, NO_GUARD)
    assert result.ready_keys()[-1] == key(1)
    pole = result.ready[-1].score
    assert pole.critical and pole.pole == "on the critical path: a 100m chain, 140m of the run left; P0 work may hold it back 15m more"
    assert "P0 work may hold it back 15m more" in pole.explain()

    # two P0s done: 110m left, less than its chain over 0.8: it goes before P0 work
    done = apply_all(snapshot(*backlog), [started(10), started(11), finished(10), finished(11)])
    result = plan(done, NOW, NO_GUARD)
    assert result.ready_keys()[0] == key(1)
    assert result.ready[0].score.pole.endswith("110m of the run left; it goes before P0 work")
    assert result.dispatch == (key(1), key(12))


def test_a_long_pole_is_due_when_the_next_free_slot_comes_too_late() -> None:
    # #1 runs for 300m more; #2 may wait 90m (320m left, lead 230m) but no slot frees for 300m
    backlog = [issue(1, estimate=300), issue(2, labels=["P3"], estimate=100), *(issue(n, labels=["P1"], estimate=60) for n in range(3, 7))]
    open_tasks = dict(apply_all(snapshot(*backlog), [started(1)]).tasks)
    structure = Analyser(PriorityConfig()).analyse(open_tasks)
    left = structure.remaining_lower_bound(2)
    assert left == 320
    ready = [key(n) for n in range(2, 7)]

    def poles(runs_for: float) -> dict[str, Pole]:
        done = {key(1): 300 - runs_for}
        return long_poles(ready, structure, left, done, [key(1)], 1, share=0.5, margin=1.15, hold_share=0.8)

    due = poles(runs_for=300)
    assert list(due) == [key(2)]
    assert due[key(2)].slack == pytest.approx(90)
    # the slot frees in 60m: #2 can wait for it
    assert poles(runs_for=60) == {}


def test_the_run_left_counts_what_running_sessions_have_done() -> None:
    # #1 (200m) heads a chain of 300m: 150m into it, 150m of the chain is left
    open_tasks = dict(snapshot(issue(1, estimate=200), issue(2, deps=[1], estimate=100), issue(3, estimate=10)).tasks)
    structure = Analyser(PriorityConfig()).analyse(open_tasks)
    assert structure.remaining_lower_bound(4) == 300
    assert structure.remaining_lower_bound(4, {key(1): 150}) == 150


def test_other_work_keeps_a_slot_while_p0_work_waits() -> None:
    backlog = [*(issue(n, labels=["P0"], estimate=30) for n in range(1, 11)), issue(20, labels=["P2"], estimate=30)]
    config = SchedulerConfig(capacity=4)
    result = plan(snapshot(*backlog), NOW, config)
    # P0 work takes at most 3 of the 4 slots while #20 waits
    assert result.dispatch == (key(1), key(2), key(3), key(20))
    assert result.ready[4].score.held == "P0 work takes at most 3 of 4 slots while other work waits"
    assert "P0 work takes at most 3 of 4 slots" in " ".join(result.ready[4].score.reasons())

    three_first = apply_all(snapshot(*backlog), [started(1), started(2), started(3)])
    assert plan(three_first, NOW, config).dispatch == (key(20),)
    two_first = apply_all(snapshot(*backlog), [started(1), started(2), started(20)])
    assert plan(two_first, NOW, config).dispatch == (key(3),)
    assert plan(snapshot(*backlog), NOW, SchedulerConfig(capacity=4, other_share=0)).dispatch == (key(1), key(2), key(3), key(4))
    # with one slot there is nothing to share
    assert plan(snapshot(*backlog), NOW, SchedulerConfig(capacity=1)).dispatch == (key(1),)


def test_the_guard_leaves_p0_work_alone_when_nothing_else_waits() -> None:
    only_p0 = [issue(n, labels=["P0"], estimate=30) for n in range(1, 6)]
    assert plan(snapshot(*only_p0), NOW, SchedulerConfig(capacity=4)).dispatch == (key(1), key(2), key(3), key(4))
