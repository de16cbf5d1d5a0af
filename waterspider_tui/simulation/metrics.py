"""What a schedule is worth: makespan against its lower bound, weighted completion, P0 stretch, Graham's bound."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from typing import Mapping

from waterspider_tui.simulation.workload import WEIGHTS, Workload

GRAHAM_SLACK_MIN = 1e-6
"""Float rounding allowed when checking the bound."""


def _release(created: float) -> float:
    return max(created, 0.0)


def earliest_finish(workload: Workload) -> dict[int, float]:
    """Each issue's finish with unlimited slots: its own chain of true durations, from its release."""
    issues = workload.by_number()
    finish: dict[int, float] = {}

    def visit(number: int) -> float:
        # iterative depth-first so 5,000-long chains do not hit the recursion limit
        stack = [number]
        while stack:
            current = stack[-1]
            if current in finish:
                stack.pop()
                continue
            waiting = [dep for dep in issues[current].depends_on if dep not in finish]
            if waiting:
                stack.extend(waiting)
                continue
            issue = issues[current]
            ready_at = max([_release(issue.created), *(finish[dep] for dep in issue.depends_on)])
            finish[current] = ready_at + issue.actual_min
            stack.pop()
        return finish[number]

    for number in issues:
        visit(number)
    return finish


@dataclass(frozen=True)
class Bounds:
    critical_path: float
    """Longest chain of true durations (releases ignored)."""
    earliest_end: float
    """Longest chain including release times."""
    total_work: float
    longest_task: float
    last_release: float

    def lower_bound(self, slots: int) -> float:
        """No schedule on `slots` slots can end sooner."""
        return max(self.earliest_end, self.total_work / slots, self.longest_task)

    def graham_bound(self, slots: int) -> float:
        """Any schedule that never leaves a slot idle while work is ready ends by this (Graham 1966).

        With releases, the list schedule after the last release is bounded the same way.
        """
        return self.last_release + self.total_work / slots + (1 - 1 / slots) * self.critical_path


def bounds(workload: Workload) -> Bounds:
    unreleased = replace(workload, issues=tuple(replace(issue, created=0.0) for issue in workload.issues))
    return Bounds(
        critical_path=max(earliest_finish(unreleased).values(), default=0.0),
        earliest_end=max(earliest_finish(workload).values(), default=0.0),
        total_work=sum(issue.actual_min for issue in workload.issues),
        longest_task=max((issue.actual_min for issue in workload.issues), default=0.0),
        last_release=max((_release(issue.created) for issue in workload.issues), default=0.0),
    )


def weighted_completion(workload: Workload, end: Mapping[int, float]) -> float:
    """Sum of label weight × (finish − release): what the backlog's importance waited."""
    return sum(WEIGHTS[issue.priority] * (end[issue.number] - _release(issue.created)) for issue in workload.issues)


def p0_stretch(workload: Workload, end: Mapping[int, float]) -> float | None:
    """Mean over P0 issues of finish / earliest possible finish along its own chain; None without P0s."""
    earliest = earliest_finish(workload)
    ratios = [end[issue.number] / earliest[issue.number] for issue in workload.issues if issue.priority == "P0"]
    return statistics.fmean(ratios) if ratios else None
