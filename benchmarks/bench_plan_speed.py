"""plan() on large backlogs: the first call (graph built) against the calls after an event (figures reused).

The engine plans after every stored event, so the second figure is the one that matters; the
ratio is against the first call in the same run. Usage: python benchmarks/bench_plan_speed.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waterspider_tui.core import events as ev  # noqa: E402
from waterspider_tui.core.priority import PriorityConfig  # noqa: E402
from waterspider_tui.core.scheduler import SchedulerConfig, plan  # noqa: E402
from waterspider_tui.core.state import replay  # noqa: E402
from waterspider_tui.simulation.generator import generate  # noqa: E402
from waterspider_tui.simulation.policies import policy_config  # noqa: E402
from waterspider_tui.simulation.simulator import START, simulate, sim_issue  # noqa: E402


def main() -> None:
    print("## plan() speed\n")
    print("| backlog | first plan() | mean plan() over a whole simulated run | × first | whole run |")
    print("|---|---|---|---|---|")
    for family, size in (("layered", 1000), ("independent", 1000)):
        workload = generate(family, size, seed=1)
        snapshot = replay([ev.IssueSeen(ts=START, issue_data=sim_issue(issue)) for issue in workload.issues])
        plan(snapshot, START, SchedulerConfig(capacity=8, critical_share=0.49))  # imports and first-use compilation
        first_started = time.perf_counter()
        # a priority config not seen before: no graph figures or scores to reuse
        plan(snapshot, START, SchedulerConfig(capacity=8, priority=PriorityConfig(age_horizon_h=168.0 + size / 1e6)))
        first = time.perf_counter() - first_started
        run_started = time.perf_counter()
        schedule = simulate(workload, policy_config("ours", 8))
        run = time.perf_counter() - run_started
        mean = run / schedule.plan_calls
        print(f"| {family} {size:,} issues | {first * 1000:.0f} ms | {mean * 1000:.2f} ms ({schedule.plan_calls} calls) | ×{mean / first:.3f} | {run:.1f} s |")


if __name__ == "__main__":
    main()
