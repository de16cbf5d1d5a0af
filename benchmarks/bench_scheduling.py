"""Scheduling quality: every policy on every workload family, in simulated time with the real plan().

Prints, per family and policy, medians over seeded workloads of: makespan / lower bound,
weighted completion time relative to the `priority` policy on the same workload, and P0
stretch (mean over a workload's P0s of finish / earliest possible finish). Every schedule
is checked against Graham's bound. Usage: python benchmarks/bench_scheduling.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waterspider_tui.simulation.generator import FAMILIES, generate  # noqa: E402
from waterspider_tui.simulation.policies import POLICIES  # noqa: E402
from waterspider_tui.simulation.report import run_policies, summarize  # noqa: E402


def one_workload(job: tuple[str, int, int, int, float]) -> tuple[str, int, float, int, list[tuple[str, float, float, float | None, bool]]]:
    family, size, seed, slots, sigma = job
    workload = generate(family, size, seed, sigma=sigma)
    summaries = {name: summarize(schedule) for name, schedule in run_policies(workload, slots, POLICIES).items()}
    baseline = summaries["priority"].weighted_completion
    rows = [(name, s.makespan_ratio, s.weighted_completion / baseline, s.p0_stretch, s.graham_ok and s.idle_while_ready == 0) for name, s in summaries.items()]
    return family, size, sigma, slots, rows


def table(results: list[tuple[str, int, float, int, list]], size: int, sigma: float, slots: int) -> tuple[list[str], int, int]:
    lines = [
        f"\n**{size} issues, {slots} slots, estimate error sigma {sigma}** (medians; makespan/LB · weighted completion vs priority · P0 stretch)\n",
        "| policy | " + " | ".join(FAMILIES) + " |",
        "|---|" + "---|" * len(FAMILIES),
    ]
    checked = violations = 0
    for policy in POLICIES:
        cells = []
        for family in FAMILIES:
            rows = [row for f, z, sg, sl, rs in results if (f, z, sg, sl) == (family, size, sigma, slots) for row in rs if row[0] == policy]
            checked += len(rows)
            violations += sum(not row[4] for row in rows)
            stretch = [row[3] for row in rows if row[3] is not None]
            cells.append(f"{statistics.median(r[1] for r in rows):.3f} · {statistics.median(r[2] for r in rows):.3f} · {statistics.median(stretch) if stretch else float('nan'):.2f}")
        lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    return lines, checked, violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds (for a smoke run)")
    args = parser.parse_args()
    seeds = 3 if args.quick else 8
    configs = [(200, 0.5, 8, seeds), (50, 0.5, 8, seeds * 2), (200, 1.0, 8, max(seeds // 2, 2))]
    jobs = [(family, size, seed, slots, sigma) for size, sigma, slots, count in configs for family in FAMILIES for seed in range(count)]
    started = time.perf_counter()
    with Pool(2) as pool:
        results = pool.map(one_workload, jobs, chunksize=2)
    elapsed = time.perf_counter() - started
    simulations = sum(len(rows) for *_, rows in results)
    total_checked = total_violations = 0
    print("## Scheduling (simulated time, real plan())")
    for size, sigma, slots, _ in configs:
        lines, checked, violations = table(results, size, sigma, slots)
        total_checked += checked
        total_violations += violations
        print("\n".join(lines))
    print(f"\nGraham's bound and no-idle-while-ready: {total_checked - total_violations}/{total_checked} schedules pass")
    print(f"{simulations} simulations of {len(jobs)} workloads in {elapsed:.1f} s on 2 processes ({simulations / elapsed:.1f} per second)")
    if total_violations:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
