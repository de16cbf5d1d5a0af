"""What the look for a session's marked processes costs at each session end (shell launcher).

At the end of an agent (and on a stop) the orchestrator reads /proc in a thread for processes
carrying the session's mark (`adapters/executors/local_marks.py`): one `stat` per process of the
machine, the start time of each of our user's, the environment of those started since the
session. Measured here with N extra processes of our user (`sleep`) started before the session
(only their start time is read) and after it (their environments are read too: the worst case,
a machine where everything is younger than the session), against the process-table read a stop
already did before (`runner.session_processes`) as the baseline in the same run. Then a burst:
B session ends asking through one `SharedLooks` at once and spread over a second, as when many
agents end together: how many looks served them and the CPU per end.

Usage: python benchmarks/bench_session_end.py [--processes 0,200,500] [--repeat 40] [--burst 200] [--burst-processes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waterspider_tui.adapters.executors import runner  # noqa: E402
from waterspider_tui.adapters.executors.local_marks import SharedLooks, marked_processes, mark_of, session_start  # noqa: E402


def _timed(function: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of `repeat` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _sleepers(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL) for _ in range(count)]


def _measure(session: Path, extra: int, younger: bool, repeat: int) -> dict[str, float]:
    sleepers: list[subprocess.Popen[bytes]] = []
    try:
        if not younger:
            sleepers = _sleepers(extra)
            time.sleep(2.5)  # older than the session by more than the start-time slack
        (session / "heartbeat").write_text(f"{time.time():.3f}\n")
        if younger:
            sleepers = _sleepers(extra)
        scan_wall, scan_cpu = _timed(lambda: marked_processes(mark_of(session), session_start(session)), repeat)
        table_wall, table_cpu = _timed(lambda: runner.session_processes(1), repeat)
    finally:
        for sleeper in sleepers:
            sleeper.kill()
        for sleeper in sleepers:
            sleeper.wait()
    return {
        "scan_wall_p50": statistics.median(scan_wall), "scan_wall_p99": _p(scan_wall, 0.99),
        "scan_cpu_p50": statistics.median(scan_cpu), "table_wall_p50": statistics.median(table_wall),
        "table_cpu_p50": statistics.median(table_cpu),
    }


async def _burst(folder: Path, ends: int, spread_s: float) -> tuple[int, float, float]:
    """`ends` sessions asking spread evenly over `spread_s`: looks made, wall ms until all were answered, CPU ms per end."""
    looks = SharedLooks()
    since = time.time()

    async def end(index: int) -> None:
        await asyncio.sleep(spread_s * index / ends)
        await looks.find(mark_of(folder / f"session-{index}"), since)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(end(index) for index in range(ends)))
    return looks.looks, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000 / ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="0,200,500", help="extra processes of our user, comma-separated levels")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--burst", type=int, default=200, help="session ends asking together")
    parser.add_argument("--burst-processes", type=int, default=200, help="extra processes of ours during the burst")
    args = parser.parse_args()
    if not Path("/proc/self/environ").exists():
        print("no /proc here: the look finds nothing and costs nothing")
        return
    with open("/proc/loadavg") as loadavg:
        print(f"load average {loadavg.read().split()[0]}, {len(list(Path('/proc').glob('[0-9]*')))} processes on the machine")
    print("| extra processes of ours | started | look at a session end, wall p50 / p99 | its CPU p50 | process table (baseline) wall p50 | look / baseline |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        session = Path(folder)
        for extra in (int(level) for level in args.processes.split(",")):
            for younger in (False, True):
                row = _measure(session, extra, younger, args.repeat)
                print(
                    f"| {extra} | {'after' if younger else 'before'} the session | {row['scan_wall_p50']:.1f} / {row['scan_wall_p99']:.1f} ms"
                    f" | {row['scan_cpu_p50']:.1f} ms | {row['table_wall_p50']:.1f} ms | ×{row['scan_wall_p50'] / row['table_wall_p50']:.2f} |",
                    flush=True,
                )
        sleepers = _sleepers(args.burst_processes)
        try:
            print()
            for spread_s in (0.0, 1.0):
                looks, wall, cpu_per_end = asyncio.run(_burst(session, args.burst, spread_s))
                print(f"{args.burst} session ends within {spread_s * 1000:.0f} ms, {args.burst_processes} extra processes younger than them:"
                      f" {looks} look(s), all answered in {wall:.0f} ms, {cpu_per_end:.2f} ms of CPU per end", flush=True)
        finally:
            for sleeper in sleepers:
                sleeper.kill()
            for sleeper in sleepers:
                sleeper.wait()


if __name__ == "__main__":
    main()
