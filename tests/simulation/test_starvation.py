"""P0 work that keeps coming does not starve the rest: other work keeps its share of the slots."""

from __future__ import annotations

from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.simulation.simulator import simulate
from waterspider_tui.simulation.workload import SimIssue, Workload

# a P0 of 30m every 15m fills both slots for five hours; six P2s of 20m wait from the start
STREAM = Workload((
    *(SimIssue(number, "P2", 20, 20) for number in range(1, 7)),
    *(SimIssue(10 + k, "P0", 30, 30, created=15.0 * k) for k in range(20)),
))


def test_other_work_runs_beside_a_stream_of_p0s() -> None:
    guarded = simulate(STREAM, SchedulerConfig(capacity=2))
    # one slot stays with the P2s: done in two hours, one after another
    assert [guarded.end[n] for n in range(1, 7)] == [20, 40, 60, 80, 100, 120]
    # without the guard only the first (a slot was free before the stream began) runs before the stream ends
    starved = simulate(STREAM, SchedulerConfig(capacity=2, other_share=0))
    assert starved.start[1] == 0 and min(starved.start[n] for n in range(2, 7)) >= 300
    assert max(guarded.end.values()) == max(starved.end.values()) == 360
