"""The tails of scheduling quality over many seeded backlogs, the harder families, and starvation.

Used by `bench_scheduling.py` (`--part tails`, `families`, `starvation`, `--replay`). Every
backlog runs every policy in simulated time with the real planner; figures are ratios against
the same backlog: makespan over its lower bound, weighted completion over `priority`'s, and
makespan over the best of fifo, priority and seed.
"""

from __future__ import annotations

import statistics
from multiprocessing import Pool
from typing import Callable, Iterable, Sequence

from waterspider_tui.simulation.generator import EXTRA_FAMILIES, FAMILIES, generate
from waterspider_tui.simulation.policies import DESCRIPTIONS, POLICIES, REFERENCES, VARIANTS, policy_config, reference_run
from waterspider_tui.simulation.report import summarize, summary_line
from waterspider_tui.simulation.simulator import Schedule, simulate

SIZES = (50, 120, 200)
SIGMAS = (0.5, 1.0)
SLOTS = 8
FIRST_SEED = 100
"""Seeds from here on: apart from the medians tables (seeds 0–15), so the tails are fresh backlogs."""
PLAIN = ("fifo", "priority", "seed")
"""The plain orderings `ours` must not lose to by more than `NEVER_WORSE` on any backlog."""
NEVER_WORSE = 1.05
PREVIOUS = "ours-previous"
"""`ours` as the previous round shipped it, run beside it on the same backlogs."""
HOLD_HALF = "ours-hold-half"
"""`ours` with P0 work holding a long pole back only to half of the run left: what P0-first costs the makespan, and buys the P0s."""
ESTIMATE_ONLY = ("fifo", "priority", "seed", "critical-path", "ours", PREVIOUS, HOLD_HALF, "random")
"""The orders that know only the estimates (or nothing): the best of them per backlog, picked
after the fact, is more than any one of them can reach."""

Backlog = tuple[str, int, int, float]
"""(family, issues, seed, sigma)."""
Figures = tuple[float, float, float, "float | None", bool]
"""(makespan, lower bound, weighted completion, P0 stretch, Graham's bound and no idle slot held)."""


def figures(schedule: Schedule) -> Figures:
    summary = summarize(schedule)
    return (summary.makespan, summary.lower_bound, summary.weighted_completion, summary.p0_stretch,
            summary.graham_ok and summary.idle_while_ready == 0)


def run_backlog(job: tuple[Backlog, tuple[str, ...]]) -> tuple[Backlog, dict[str, Figures]]:
    (family, size, seed, sigma), policies = job
    workload = generate(family, size, seed, sigma=sigma)
    results = {}
    for name in policies:
        runs_on, policy = reference_run(name, workload) if name in REFERENCES else (workload, name)
        results[name] = figures(simulate(runs_on, policy_config(policy, SLOTS), name))
    return job[0], results


def run_all(backlogs: Sequence[Backlog], policies: tuple[str, ...], workers: int) -> dict[Backlog, dict[str, Figures]]:
    jobs = [(backlog, policies) for backlog in backlogs]
    if workers <= 1:
        return dict(map(run_backlog, jobs))
    with Pool(workers) as pool:
        return dict(pool.map(run_backlog, jobs, chunksize=4))


def quantile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def spread(values: list[float], digits: int = 3) -> str:
    """median · p95 · worst."""
    return f"{statistics.median(values):.{digits}f} · {quantile(values, 0.95):.{digits}f} · {max(values):.{digits}f}"


class Tails:
    """The figures of `ours` (and the critical path, for reference) over a group of backlogs."""

    def __init__(self, results: dict[Backlog, dict[str, Figures]], group: list[Backlog], policy: str = "ours") -> None:
        self.group = group
        own = {backlog: results[backlog][policy] for backlog in group}
        self.makespan = [own[b][0] / own[b][1] for b in group]
        self.reference = [results[b]["critical-path"][0] / results[b]["critical-path"][1] for b in group]
        self.weighted = [own[b][2] / results[b]["priority"][2] for b in group]
        self.stretch = [own[b][3] for b in group if own[b][3] is not None]
        self.versus_plain = sorted(((own[b][0] / min(results[b][name][0] for name in PLAIN), b) for b in group), reverse=True)
        self.violations = sum(not own[b][4] for b in group)

    @property
    def worse(self) -> int:
        return sum(ratio > NEVER_WORSE for ratio, _ in self.versus_plain)

    def row(self, label: str) -> str:
        worst_ratio, worst = self.versus_plain[0]
        return (f"| {label} | {len(self.group)} | {spread(self.makespan)} | {spread(self.reference)} | "
                f"{statistics.median(self.weighted):.3f} · {quantile(self.weighted, 0.95):.3f} | {spread(self.stretch, 2)} | "
                f"{self.worse} | ×{worst_ratio:.3f} ({replay_name(worst)}) |")

    def goals(self) -> list[tuple[str, bool]]:
        return [
            (f"makespan/LB median {statistics.median(self.makespan):.3f} ≤ 1.05", statistics.median(self.makespan) <= 1.05),
            (f"p95 {quantile(self.makespan, 0.95):.3f} ≤ 1.15", quantile(self.makespan, 0.95) <= 1.15),
            (f"weighted completion median {statistics.median(self.weighted):.3f} ≤ 1.0", statistics.median(self.weighted) <= 1.0),
            (f"P0 stretch median {statistics.median(self.stretch):.2f} ≤ 1.4", statistics.median(self.stretch) <= 1.4),
            (f"never > {NEVER_WORSE:g}× the best plain order ({self.worse} backlogs are)", self.worse == 0),
        ]


def replay_name(backlog: Backlog) -> str:
    family, size, seed, sigma = backlog
    return f"{family}:{size}:{seed}:{sigma:g}"


def tails_part(seeds: int, workers: int) -> tuple[int, int]:
    """Median, p95 and worst of `ours` per size and sigma, and per size over both (the goals)."""
    backlogs = [(family, size, seed, sigma) for size in SIZES for sigma in SIGMAS for family in FAMILIES
                for seed in range(FIRST_SEED, FIRST_SEED + seeds)]
    policies = (*POLICIES, PREVIOUS, HOLD_HALF, *REFERENCES)
    results = run_all(backlogs, policies, workers)
    print(f"## Scheduling tails ({len(backlogs)} backlogs: {len(FAMILIES)} families × {len(SIGMAS)} sigmas × {seeds} seeds "
          f"from {FIRST_SEED} per size, {SLOTS} slots; simulated time, real plan())\n")
    print("| backlogs | n | `ours` makespan/LB median · p95 · worst | critical-path makespan/LB (reference) | "
          "weighted completion vs priority median · p95 | P0 stretch median · p95 · worst | "
          f"> {NEVER_WORSE:g}× best of fifo/priority/seed | worst of those (replay) |")
    print("|---|---|---|---|---|---|---|---|")
    goal_lines = []
    for size in SIZES:
        for sigma in SIGMAS:
            group = [b for b in backlogs if b[1] == size and b[3] == sigma]
            print(Tails(results, group).row(f"{size} issues, sigma {sigma:g}"))
            print(Tails(results, group, PREVIOUS).row("*previous*"))
            print(Tails(results, group, HOLD_HALF).row("*hold 0.5*"))
        pooled = Tails(results, [b for b in backlogs if b[1] == size])
        print(pooled.row(f"**{size} issues, both**"))
        print(Tails(results, [b for b in backlogs if b[1] == size], PREVIOUS).row("*previous*"))
        goal_lines.append(f"- {size} issues (both sigmas): " + "; ".join(f"{text} {'met' if ok else 'NOT met'}" for text, ok in pooled.goals()))
    print("\n" + "\n".join(goal_lines))
    sigma_half = [b for b in backlogs if b[3] == 0.5]
    half = Tails(results, sigma_half)
    print(f"- sigma 0.5 alone, all sizes: " + "; ".join(f"{text} {'met' if ok else 'NOT met'}" for text, ok in half.goals()))
    every = Tails(results, backlogs)
    worst_ratio, worst = every.versus_plain[0]
    worst_span = max((ratio, b) for ratio, b in zip(every.makespan, every.group))
    print(f"\nWorst backlog against the plain orders: {replay_name(worst)} (×{worst_ratio:.3f}); worst makespan/LB: "
          f"{replay_name(worst_span[1])} (×{worst_span[0]:.3f}). Replay: `python benchmarks/bench_scheduling.py --replay {replay_name(worst)}`")
    achievable_table(results, backlogs)
    print("\nPer family (`ours`; median makespan/LB · p95 · median weighted completion vs priority · median P0 stretch):\n")
    print("| issues, sigma | " + " | ".join(FAMILIES) + " |")
    print("|---|" + "---|" * len(FAMILIES))
    for size in SIZES:
        for sigma in SIGMAS:
            cells = []
            for family in FAMILIES:
                tails = Tails(results, [b for b in backlogs if b[:2] == (family, size) and b[3] == sigma])
                cells.append(f"{statistics.median(tails.makespan):.3f} · {quantile(tails.makespan, 0.95):.3f} · "
                             f"{statistics.median(tails.weighted):.3f} · {statistics.median(tails.stretch):.2f}")
            print(f"| {size}, {sigma:g} | " + " | ".join(cells) + " |")
    checked = len(backlogs) * len(policies)
    return checked, sum(not figures[4] for per in results.values() for figures in per.values())


def achievable_table(results: dict[Backlog, dict[str, Figures]], backlogs: list[Backlog]) -> None:
    """What is within reach: an order that knows nothing, the longest chain first, the best
    order picked per backlog after the fact, and `ours` knowing the true durations."""
    print(f"\nWhat is within reach (makespan/LB median · p95 · worst; in brackets: backlogs > {NEVER_WORSE:g}× the best of fifo/priority/seed):\n")
    columns = ("ours", PREVIOUS, HOLD_HALF, "fifo", "priority", "critical-path", "random", "best in hindsight", "clairvoyant")
    print("| issues, sigma | n | " + " | ".join(columns) + " | no estimate-only order within 1.15× |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    for size in SIZES:
        for sigma in (*SIGMAS, None):
            group = [b for b in backlogs if b[1] == size and (sigma is None or b[3] == sigma)]
            beyond = sum(min(results[b][name][0] for name in ESTIMATE_ONLY) > 1.15 * results[b]["ours"][1] for b in group)
            cells = []
            for column in columns:
                makespans = {b: (min(results[b][name][0] for name in ESTIMATE_ONLY) if column == "best in hindsight" else results[b][column][0])
                             for b in group}
                ratios = [makespans[b] / results[b]["ours"][1] for b in group]
                worse = sum(makespans[b] > NEVER_WORSE * min(results[b][name][0] for name in PLAIN) for b in group)
                cells.append(f"{spread(ratios)} ({worse})")
            label = f"{size}, {sigma:g}" if sigma is not None else f"**{size}, both**"
            print(f"| {label} | {len(group)} | " + " | ".join(cells) + f" | {beyond} |")


def families_part(seeds: int, workers: int) -> tuple[int, int]:
    """Every policy on the harder families; which wins each figure."""
    backlogs = [(family, size, seed, 0.5) for family in EXTRA_FAMILIES for size in SIZES for seed in range(FIRST_SEED, FIRST_SEED + seeds)]
    policies = (*POLICIES, PREVIOUS, "ours-no-guard")
    results = run_all(backlogs, policies, workers)
    print(f"\n## Harder families ({seeds} seeds × sizes {', '.join(map(str, SIZES))}, sigma 0.5, {SLOTS} slots)\n")
    print("Cell: median makespan/LB · p95 · median weighted completion vs priority · median P0 stretch.\n")
    print("| policy | " + " | ".join(EXTRA_FAMILIES) + " |")
    print("|---|" + "---|" * len(EXTRA_FAMILIES))
    medians: dict[tuple[str, str], tuple[float, float, float]] = {}
    for policy in policies:
        cells = []
        for family in EXTRA_FAMILIES:
            group = [b for b in backlogs if b[0] == family]
            tails = Tails(results, group, policy)
            medians[(policy, family)] = (statistics.median(tails.makespan), statistics.median(tails.weighted), statistics.median(tails.stretch))
            cells.append(f"{statistics.median(tails.makespan):.3f} · {quantile(tails.makespan, 0.95):.3f} · "
                         f"{statistics.median(tails.weighted):.3f} · {statistics.median(tails.stretch):.2f}")
        print(f"| {policy} | " + " | ".join(cells) + " |")
    print()
    for family in EXTRA_FAMILIES:
        wins = [min(POLICIES, key=lambda name: medians[(name, family)][index]) for index in range(3)]
        print(f"- {family}: shortest run {wins[0]}, weighted completion {wins[1]}, P0 stretch {wins[2]}")
    checked = len(backlogs) * len(policies)
    return checked, sum(not figures[4] for per in results.values() for figures in per.values())


def starvation_part(seeds: int, workers: int) -> tuple[int, int]:
    """P0s appearing faster than the slots take them: how long other work gets no slot, with and without the guard."""
    backlogs = [("p0-stream", size, seed, 0.5) for size in SIZES for seed in range(FIRST_SEED, FIRST_SEED + seeds)]
    policies = ("priority", "ours", PREVIOUS, "ours-no-guard")
    waits = run_waits(backlogs, policies, workers)
    print(f"\n## Starvation: P0s that keep coming (`p0-stream`, {seeds} seeds per size, sigma 0.5, {SLOTS} slots)\n")
    print("Starved: the longest time other work (not P0 work) was ready but no slot ran any. Wait: from ready "
          "(released, dependencies done) to start. Minutes; cell: median over backlogs (worst in brackets).\n")
    print("| issues | policy | other work starved | other work's longest wait | P0 work's longest wait | P0 stretch |")
    print("|---|---|---|---|---|---|")
    for size in SIZES:
        for policy in policies:
            rows = [waits[b][policy] for b in backlogs if b[1] == size]
            print(f"| {size} | {policy} | {statistics.median(r[0] for r in rows):.0f} ({max(r[0] for r in rows):.0f}) | "
                  f"{statistics.median(r[1] for r in rows):.0f} | {statistics.median(r[2] for r in rows):.0f} | "
                  f"{statistics.median(r[3] for r in rows):.2f} |")
    return len(backlogs) * len(policies), 0


def run_waits(backlogs: Sequence[Backlog], policies: tuple[str, ...], workers: int) -> dict[Backlog, dict[str, tuple[float, float, float, float]]]:
    jobs = [(backlog, policies) for backlog in backlogs]
    if workers <= 1:
        return dict(map(_waits, jobs))
    with Pool(workers) as pool:
        return dict(pool.map(_waits, jobs, chunksize=2))


def _waits(job: tuple[Backlog, tuple[str, ...]]) -> tuple[Backlog, dict[str, tuple[float, float, float, float]]]:
    (family, size, seed, sigma), policies = job
    workload = generate(family, size, seed, sigma=sigma)
    out = {}
    for name in policies:
        schedule = simulate(workload, policy_config(name, SLOTS), name)
        other, first, starved = _wait_times(schedule)
        out[name] = (starved, max(other), max(first), summarize(schedule).p0_stretch or 1.0)
    return job[0], out


def _wait_times(schedule: Schedule) -> tuple[list[float], list[float], float]:
    """Each issue's wait from ready to start, for other work and for P0 work (P0s and what they
    wait on); and the longest time other work was ready while none of it ran."""
    issues = schedule.workload.by_number()
    first: set[int] = set()
    pending = [number for number, issue in issues.items() if issue.priority == "P0"]
    while pending:
        number = pending.pop()
        if number not in first:
            first.add(number)
            pending.extend(issues[number].depends_on)
    other_waits, first_waits = [], []
    moments: list[tuple[float, int, int]] = []
    """(minute, change in other work ready and waiting, change in other work running)."""
    for number, issue in issues.items():
        ready = max([max(issue.created, 0.0), *(schedule.end[dep] for dep in issue.depends_on)])
        start = schedule.start[number]
        if number in first:
            first_waits.append(start - ready)
            continue
        other_waits.append(start - ready)
        moments += [(ready, 1, 0), (start, -1, 1), (schedule.end[number], 0, -1)]
    longest = 0.0
    waiting = running = 0
    since: float | None = None
    for minute, ready_change, running_change in sorted(moments):
        waiting += ready_change
        running += running_change
        if waiting > 0 and running == 0:
            since = minute if since is None else since
        elif since is not None:
            longest = max(longest, minute - since)
            since = None
    return other_waits or [0.0], first_waits or [0.0], longest


def replay(name: str) -> None:
    """Every policy on one backlog, named as the tails print it (`family:issues:seed:sigma`)."""
    family, size, seed, sigma = name.split(":")
    workload = generate(family, int(size), int(seed), sigma=float(sigma))
    summaries = {}
    for policy in (*POLICIES, PREVIOUS, HOLD_HALF, *REFERENCES):
        runs_on, runs = reference_run(policy, workload) if policy in REFERENCES else (workload, policy)
        summaries[policy] = summarize(simulate(runs_on, policy_config(runs, SLOTS), policy))
    print(f"{name}: {len(workload.issues)} issues on {SLOTS} slots")
    descriptions = {**DESCRIPTIONS, **VARIANTS, **REFERENCES}
    for policy, summary in summaries.items():
        print(summary_line(summary, summaries["priority"]) + f"  ({descriptions[policy]})")


PARTS: dict[str, Callable[[int, int], tuple[int, int]]] = {"tails": tails_part, "families": families_part, "starvation": starvation_part}
