"""plan() on a recorded run: a dispatch benchmark's event log replayed, one kept planner, CPU per plan and per start.

`bench_dispatch.py` prints the event log of each level it ran. Replaying it plans the same snapshots
the engine planned (give or take how events were grouped: `--every N` plans after every N events)
on a quiet process, so two designs can be compared on one workload without the machine's load in
the figures: `--root` names the checkout whose `waterspider_tui` is measured (an export of an
earlier commit, say). Times are the planning thread's CPU (`time.thread_time`).
Usage: python benchmarks/bench_plan_replay.py STATE_DB --capacity 500 [--every 1,16] [--root PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="a state.db written by bench_dispatch.py")
    parser.add_argument("--capacity", type=int, required=True, help="the level's sessions at once")
    parser.add_argument("--every", default="1,16", help="plan after every N events (several: each in turn)")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the checkout to measure")
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.scheduler import Planner, SchedulerConfig
    from waterspider_tui.core.state import Snapshot, apply_all
    from waterspider_tui.store.event_log import EventLog

    events = list(EventLog(args.log, read_only=True).read())
    first = next(index for index, event in enumerate(events) if isinstance(event, ev.SessionStarted))
    print(f"## plan() replayed: {len(events):,} events of {args.log}, capacity {args.capacity}, code of {args.root}\n")
    print("| plan after every | dispatching plans | plan CPU p50 / p99 | plans deciding one start: CPU p50 / p99"
          " | its share per start p50 / p99 / worst | the other plans p50 / p99 |")
    print("|---|---|---|---|---|---|")
    for every in (int(value) for value in args.every.split(",")):
        planner = Planner(SchedulerConfig(capacity=args.capacity))
        # up to the first start as the engine had it: every issue seen in one go
        snapshot = apply_all(Snapshot(), events[:first])
        planner.plan(snapshot, events[first].ts)
        dispatching: list[tuple[float, int]] = []
        others: list[float] = []
        for start in range(first, len(events), every):
            batch = events[start:start + every]
            snapshot = apply_all(snapshot, batch)
            cpu = time.thread_time()
            decided = planner.plan(snapshot, batch[-1].ts)
            cpu = time.thread_time() - cpu
            if decided.dispatch:
                dispatching.append((cpu, len(decided.dispatch)))
            else:
                others.append(cpu)
        single = [cpu for cpu, count in dispatching if count == 1]
        shares = [cpu / count for cpu, count in dispatching for _ in range(count)]
        print(f"| {every} | {len(dispatching)} | {percentile([cpu for cpu, _ in dispatching], 0.5) * 1000:.2f}"
              f" / {percentile([cpu for cpu, _ in dispatching], 0.99) * 1000:.2f} ms"
              f" | {percentile(single, 0.5) * 1000:.2f} / {percentile(single, 0.99) * 1000:.2f} ms ({len(single)})"
              f" | {percentile(shares, 0.5) * 1000:.2f} / {percentile(shares, 0.99) * 1000:.2f} / {max(shares, default=0) * 1000:.2f} ms"
              f" | {percentile(others, 0.5) * 1000:.2f} / {percentile(others, 0.99) * 1000:.2f} ms |")


if __name__ == "__main__":
    main()
