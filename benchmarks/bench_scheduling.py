"""Scheduling quality: every policy on every workload family, in simulated time with the real plan().

The default parts (`scheduling_tails.py`): `tails`, median, p95 and worst of `ours` over many
seeded backlogs (sizes 50, 120 and 200; five families; sigma 0.5 and 1.0) against the goals,
with the worst backlog named for `--replay`; `families`, every policy on the harder families
(a few very long issues among short ones, a wide fan-in, P0s underestimated, P0s that keep
coming); `starvation`, how long other work waits while P0s keep coming, with and without the
share guard. Figures: makespan / lower bound, weighted completion time relative to the
`priority` policy on the same workload, P0 stretch (mean over a workload's P0s of finish /
earliest possible finish). Every schedule is checked against Graham's bound.

`--part policies` prints the medians per family and policy on seeds 0–15 (the earlier tables).

`--part learning` compares `ours` with the estimates as given and with estimates learned
from finished sessions (`core.estimates`), on backlogs whose true durations carry a
systematic bias (P3s and long tasks underestimated) on top of the random error, with and
without a history of 200 earlier finished issues. Same workloads and seeds for both.

Usage: python benchmarks/bench_scheduling.py [--quick] [--seeds N] [--workers N]
       [--part default|tails|families|starvation|policies|learning|all] [--replay FAMILY:ISSUES:SEED:SIGMA]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waterspider_tui.simulation.generator import FAMILIES, UNDERESTIMATED, generate  # noqa: E402
from waterspider_tui.simulation.policies import POLICIES, policy_config  # noqa: E402
from waterspider_tui.simulation.report import Summary, run_policies, summarize  # noqa: E402
from waterspider_tui.simulation.simulator import simulate  # noqa: E402
from waterspider_tui.simulation.workload import Workload  # noqa: E402
from scheduling_tails import PARTS, replay  # noqa: E402

LEARNING_POLICIES = ("ours-static", "ours-learned", "ours-learned-all")
EARLIER_ISSUES = 200
"""History for the warm runs: this many issues of the same bias finished before the start."""


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


Scenario = tuple[int, bool, int]
"""(issues, biased, earlier finished issues)."""


def one_learning_workload(job: tuple[str, int, int, bool, tuple[int, ...]]) -> list[tuple[str, Scenario, dict[str, tuple[float, float, float | None, bool, float]]]]:
    """One backlog under each history; `priority` does not look at history, so it runs once.

    Each row ends with the CPU seconds of its simulated run (all its plan() calls, the history
    included, so that the ratio to `ours-static` is the cost of learning).
    """
    family, seed, size, biased, earlier_counts = job
    bias = UNDERESTIMATED if biased else None
    workload = generate(family, size, seed, sigma=0.5, bias=bias)
    baseline_run = timed_run(workload, "priority", None)
    out = []
    for earlier_count in earlier_counts:
        # the history: finished issues of the same repository's past, drawn independently of the backlog
        earlier = generate("independent", earlier_count, 10_000 + seed, sigma=0.5, bias=bias) if earlier_count else None
        runs = {"priority": baseline_run, **{name: timed_run(workload, name, earlier) for name in LEARNING_POLICIES}}
        baseline = runs["priority"][0].weighted_completion
        rows = {
            name: (s.makespan_ratio, s.weighted_completion / baseline, s.p0_stretch, s.graham_ok and s.idle_while_ready == 0, cpu)
            for name, (s, cpu) in runs.items()
        }
        out.append((family, (size, biased, earlier_count), rows))
    return out


def timed_run(workload: Workload, policy: str, earlier: Workload | None) -> tuple[Summary, float]:
    started = time.process_time()
    schedule = simulate(workload, policy_config(policy, 8), policy, earlier)
    return summarize(schedule), time.process_time() - started


def learning_table(results: list[tuple[str, Scenario, dict]], scenario: Scenario) -> tuple[list[str], int, int]:
    size, biased, earlier_count = scenario
    bias = f"bias {UNDERESTIMATED.describe()}" if biased else "no bias"
    history = f"{earlier_count} earlier issues finished" if earlier_count else "no history (learns only from the run itself)"
    lines = [
        f"\n**{size} issues, 8 slots, sigma 0.5, {bias}; {history}** (medians; makespan/LB · weighted completion vs priority · P0 stretch)\n",
        "| policy | " + " | ".join(FAMILIES) + " |",
        "|---|" + "---|" * len(FAMILIES),
    ]
    here = [(family, rows) for family, sc, rows in results if sc == scenario]
    checked = violations = 0
    for policy in LEARNING_POLICIES:
        cells = []
        for family in FAMILIES:
            rows = [r[policy] for f, r in here if f == family]
            checked += len(rows)
            violations += sum(not row[3] for row in rows)
            stretch = [row[2] for row in rows if row[2] is not None]
            cells.append(f"{statistics.median(r[0] for r in rows):.3f} · {statistics.median(r[1] for r in rows):.3f} · {statistics.median(stretch) if stretch else float('nan'):.2f}")
        lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    for policy in LEARNING_POLICIES[1:]:
        cells = []
        for family in FAMILIES:
            pairs = [(r["ours-static"], r[policy]) for f, r in here if f == family]
            makespan = statistics.fmean(new[0] / old[0] - 1 for old, new in pairs)
            weighted = statistics.fmean(new[1] / old[1] - 1 for old, new in pairs)
            stretch = [new[2] / old[2] - 1 for old, new in pairs if old[2] and new[2]]
            cells.append(f"{makespan:+.1%} · {weighted:+.1%} · {statistics.fmean(stretch) if stretch else float('nan'):+.1%}")
        lines.append(f"| {policy} vs static (mean change) | " + " | ".join(cells) + " |")
    return lines, checked, violations


def policies_part(seeds: int, workers: int) -> tuple[int, int, int, int]:
    configs = [(200, 0.5, 8, seeds), (50, 0.5, 8, seeds * 2), (200, 1.0, 8, max(seeds // 2, 2))]
    jobs = [(family, size, seed, slots, sigma) for size, sigma, slots, count in configs for family in FAMILIES for seed in range(count)]
    with Pool(workers) as pool:
        results = pool.map(one_workload, jobs, chunksize=2)
    total_checked = total_violations = 0
    print("## Scheduling (simulated time, real plan())")
    for size, sigma, slots, _ in configs:
        lines, checked, violations = table(results, size, sigma, slots)
        total_checked += checked
        total_violations += violations
        print("\n".join(lines))
    return sum(len(rows) for *_, rows in results), len(jobs), total_checked, total_violations


def learning_part(seeds: int, workers: int) -> tuple[int, int, int, int]:
    backlogs = [(200, True, (EARLIER_ISSUES, 0), seeds), (200, False, (EARLIER_ISSUES,), seeds), (50, True, (EARLIER_ISSUES,), seeds * 2)]
    jobs = [(family, seed, size, biased, histories) for size, biased, histories, count in backlogs for family in FAMILIES for seed in range(count)]
    with Pool(workers) as pool:
        results = [row for rows in pool.map(one_learning_workload, jobs, chunksize=2) for row in rows]
    total_checked = total_violations = 0
    print("\n## Learned estimates (simulated time, real plan())")
    for size, biased, histories, _ in backlogs:
        for earlier_count in histories:
            lines, checked, violations = learning_table(results, (size, biased, earlier_count))
            total_checked += checked
            total_violations += violations
            print("\n".join(lines))
    cpu = {
        policy: statistics.median(rows[policy][4] / rows["ours-static"][4] for _, (size, _, _), rows in results if size == 200)
        for policy in LEARNING_POLICIES[1:]
    }
    print("\nCPU time of a whole simulated run of 200 issues (every plan() call), median ratio to ours-static on the same backlog: "
          + ", ".join(f"{policy} ×{ratio:.2f}" for policy, ratio in cpu.items()))
    simulations = sum(1 + 3 * len(histories) for size, biased, histories, count in backlogs for _ in FAMILIES for _ in range(count))
    return simulations, len(jobs), total_checked, total_violations


def tail_part(name: str) -> Callable[[int, int], tuple[int, int, int, int]]:
    """A part of `scheduling_tails` in the shape of the parts here."""
    def run(seeds: int, workers: int) -> tuple[int, int, int, int]:
        checked, violations = PARTS[name](seeds, workers)
        return checked, checked, checked, violations
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds (for a smoke run)")
    parser.add_argument("--part", choices=("default", "tails", "families", "starvation", "policies", "learning", "all"), default="default",
                        help="which tables (default: tails, families, starvation)")
    parser.add_argument("--seeds", type=int, default=0, help="seeds per family, sigma and size in the tails (default 10: 100 backlogs per size)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--replay", metavar="FAMILY:ISSUES:SEED:SIGMA", help="every policy on one backlog, as the tails name it")
    args = parser.parse_args()
    if args.replay:
        replay(args.replay)
        return
    seeds = 3 if args.quick else 8
    tail_seeds = args.seeds or (2 if args.quick else 10)
    started = time.perf_counter()
    simulations = workloads = total_checked = total_violations = 0
    tails, families, starvation = tail_part("tails"), tail_part("families"), tail_part("starvation")
    chosen = {
        "default": (tails, families, starvation), "tails": (tails,), "families": (families,), "starvation": (starvation,),
        "policies": (policies_part,), "learning": (learning_part,), "all": (tails, families, starvation, policies_part, learning_part),
    }[args.part]
    for part in chosen:
        count = tail_seeds if part in (tails, families, starvation) else seeds
        ran, jobs, checked, violations = part(count, args.workers)
        simulations += ran
        workloads += jobs
        total_checked += checked
        total_violations += violations
    elapsed = time.perf_counter() - started
    print(f"\nGraham's bound and no-idle-while-ready: {total_checked - total_violations}/{total_checked} schedules pass")
    print(f"{simulations} simulations in {elapsed:.1f} s on {args.workers} process(es) ({simulations / elapsed:.1f} per second)")
    if total_violations:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
