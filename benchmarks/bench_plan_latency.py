"""plan() latency as the engine sees it: one planner, one call per event, on 1,000 and 10,000 issues.

The engine plans on every dispatch wake. This replays what a wake follows (a session ends, the
next ones start) on a large backlog and times each `plan()` call of the same planner, then the
same calls with a fresh planner each time (what the module-level `plan()` costs: nothing reused).
Times are CPU seconds of this process (`time.process_time`), steadier than wall time on a shared machine.
Usage: python benchmarks/bench_plan_latency.py [--quick] [--steps N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waterspider_tui.core import events as ev  # noqa: E402
from waterspider_tui.core import scheduler  # noqa: E402
from waterspider_tui.core.models import Outcome, SessionResult  # noqa: E402
from waterspider_tui.core.scheduler import Plan, SchedulerConfig  # noqa: E402
from waterspider_tui.core.state import Snapshot, apply_all, replay  # noqa: E402
from waterspider_tui.simulation.generator import generate  # noqa: E402
from waterspider_tui.simulation.simulator import START, _session, sim_issue  # noqa: E402

Planning = Callable[[Snapshot, float], Plan]


def one_planner(config: SchedulerConfig) -> Planning:
    """One planner for the whole run, as the engine holds one."""
    planner_class = getattr(scheduler, "Planner", None)
    if planner_class is None:  # before the Planner: module-level caches
        return lambda snapshot, now: scheduler.plan(snapshot, now, config)
    planner = planner_class(config)
    return planner.plan  # type: ignore[no-any-return]


def fresh_each_call(config: SchedulerConfig) -> Planning:
    return lambda snapshot, now: scheduler.plan(snapshot, now, config)


def run(family: str, size: int, steps: int, planning: Planning) -> tuple[float, list[float]]:
    """The first call's seconds and each later call's, over `steps` wakes (a session ends, the next start)."""
    workload = generate(family, size, seed=1)
    by_number = workload.by_number()
    snapshot = replay([ev.IssueSeen(ts=START, issue_data=sim_issue(issue)) for issue in workload.issues])
    now = START
    started = time.process_time()
    current = planning(snapshot, now)
    first = time.process_time() - started
    running: list[str] = []
    times: list[float] = []
    for _ in range(steps + 1):
        starts = [ev.SessionStarted(ts=now, issue=key, session=_session(by_number[int(key.rpartition("#")[2])], now)) for key in current.dispatch]
        running += current.dispatch
        snapshot = apply_all(snapshot, starts)
        if not running:
            break
        now += 60.0
        done = running.pop(0)
        result = SessionResult(outcome=Outcome.SUCCEEDED, duration_s=60.0)
        snapshot = apply_all(snapshot, [ev.SessionFinished(ts=now, issue=done, session_id=f"sim-{done.rpartition('#')[2]}", result=result)])
        begun = time.process_time()
        current = planning(snapshot, now)
        times.append(time.process_time() - begun)
    return first, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    parser.add_argument("--steps", type=int, default=0, help="wakes per backlog (default 200, 40 with --quick)")
    args = parser.parse_args()
    steps = args.steps or (40 if args.quick else 200)
    config = SchedulerConfig(capacity=8)
    run("layered", 50, 5, one_planner(config))  # imports and first-use compilation
    print("## plan() latency (one planner, a call per wake)\n")
    print("| backlog | planner | first call | later calls p50 / p99 / max | calls |")
    print("|---|---|---|---|---|")
    for family, size in (("layered", 1000), ("independent", 1000), ("layered", 10_000), ("independent", 10_000)):
        for name, make in (("one, kept", one_planner), ("fresh each call", fresh_each_call)):
            calls = steps if name == "one, kept" else max(steps // 20, 3)
            gc.collect()
            first, times = run(family, size, calls, make(config))
            ordered = sorted(times)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            print(f"| {family} {size:,} | {name} | {first * 1000:.0f} ms | {statistics.median(times) * 1000:.1f} / {p99 * 1000:.1f}"
                  f" / {max(times) * 1000:.1f} ms | {len(times)} |")


if __name__ == "__main__":
    main()
