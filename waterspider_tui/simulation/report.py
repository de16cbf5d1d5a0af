"""Summary figures of simulated schedules, and the per-policy comparison the CLI and benchmarks print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waterspider_tui.simulation.metrics import GRAHAM_SLACK_MIN, bounds, p0_stretch, weighted_completion
from waterspider_tui.simulation.policies import policy_config
from waterspider_tui.simulation.simulator import Schedule, simulate
from waterspider_tui.simulation.workload import Workload


@dataclass(frozen=True)
class Summary:
    policy: str
    makespan: float
    lower_bound: float
    graham_bound: float
    weighted_completion: float
    p0_stretch: float | None
    idle_while_ready: int
    unscheduled: tuple[int, ...]
    plan_calls: int

    @property
    def makespan_ratio(self) -> float:
        return self.makespan / self.lower_bound if self.lower_bound else 1.0

    @property
    def graham_ok(self) -> bool:
        """The oracle: a schedule that never idles a slot while work is ready stays under the bound."""
        return not self.unscheduled and self.makespan <= self.graham_bound + GRAHAM_SLACK_MIN


def summarize(schedule: Schedule) -> Summary:
    limits = bounds(schedule.workload)
    done = {number: end for number, end in schedule.end.items()}
    complete = not schedule.unscheduled
    return Summary(
        policy=schedule.policy, makespan=schedule.makespan, lower_bound=limits.lower_bound(schedule.slots),
        graham_bound=limits.graham_bound(schedule.slots),
        weighted_completion=weighted_completion(schedule.workload, done) if complete else float("nan"),
        p0_stretch=p0_stretch(schedule.workload, done) if complete else None,
        idle_while_ready=schedule.idle_while_ready, unscheduled=schedule.unscheduled, plan_calls=schedule.plan_calls,
    )


def run_policies(workload: Workload, slots: int, policies: tuple[str, ...], earlier: Workload | None = None) -> dict[str, Schedule]:
    """Each policy's schedule of the same workload (after the same history), `priority` always included as the baseline."""
    names = tuple(dict.fromkeys(("priority", *policies)))
    return {name: simulate(workload, policy_config(name, slots), name, earlier) for name in names}


def summary_dict(summary: Summary, baseline: Summary) -> dict[str, Any]:
    return {
        "policy": summary.policy,
        "makespan_min": round(summary.makespan, 2),
        "lower_bound_min": round(summary.lower_bound, 2),
        "makespan_over_lower_bound": round(summary.makespan_ratio, 4),
        "graham_bound_min": round(summary.graham_bound, 2),
        "graham_ok": summary.graham_ok,
        "weighted_completion": round(summary.weighted_completion, 1),
        "weighted_completion_vs_priority": round(summary.weighted_completion / baseline.weighted_completion, 4) if baseline.weighted_completion else None,
        "p0_stretch": None if summary.p0_stretch is None else round(summary.p0_stretch, 4),
        "idle_while_ready": summary.idle_while_ready,
        "unscheduled": list(summary.unscheduled),
        "plan_calls": summary.plan_calls,
    }


def schedule_rows(schedule: Schedule) -> list[dict[str, Any]]:
    return [
        {"number": issue.number, "priority": issue.priority, "start_min": _round(schedule.start.get(issue.number)),
         "end_min": _round(schedule.end.get(issue.number))}
        for issue in sorted(schedule.workload.issues, key=lambda issue: (schedule.start.get(issue.number, float("inf")), issue.number))
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary_line(summary: Summary, baseline: Summary) -> str:
    stretch = "n/a" if summary.p0_stretch is None else f"{summary.p0_stretch:.2f}"
    wct = summary.weighted_completion / baseline.weighted_completion if baseline.weighted_completion else float("nan")
    graham = "ok" if summary.graham_ok else "VIOLATED"
    return (
        f"{summary.policy:14s} makespan {summary.makespan:9.1f} min  ×{summary.makespan_ratio:.3f} of lower bound"
        f"  weighted completion ×{wct:.3f} of priority  P0 stretch {stretch}  Graham {graham}"
    )
