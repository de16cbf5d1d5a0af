"""A backlog to simulate: issues with a priority, an estimate, a true duration and dependencies.

The JSON form `waterspider simulate --workload FILE` reads:

    {"issues": [{"number": 1, "priority": "P0", "estimate_min": 45, "actual_min": 60,
                 "depends_on": [2, 3], "created": -1440}, ...]}

`priority` is P0..P3; `actual_min` (the true duration) defaults to the estimate; `depends_on`
lists issue numbers of the same backlog; `created` is in minutes relative to the start of
the simulation (negative: already waiting that long; positive: the issue appears then;
default 0), or an ISO 8601 time (`"2026-11-20T09:00:00Z"`), in which case the simulation starts
at the newest such time, so every issue given that way is already waiting. Unknown numbers in `depends_on` and dependency cycles are errors, not silently dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from waterspider_tui.core.dag import build_graph, find_cycles

PRIORITIES = ("P0", "P1", "P2", "P3")
WEIGHTS = {"P0": 1.0, "P1": 0.7, "P2": 0.4, "P3": 0.1}
"""The seed's label weights, also the weights of the weighted completion time."""


class WorkloadError(ValueError):
    """The workload file is not what the format above describes; the message says where."""


@dataclass(frozen=True)
class SimIssue:
    number: int
    priority: str
    estimate_min: float
    actual_min: float
    depends_on: tuple[int, ...] = ()
    created: float = 0.0
    """Minutes relative to the simulation's start."""


@dataclass(frozen=True)
class Workload:
    issues: tuple[SimIssue, ...]
    family: str = "file"
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def by_number(self) -> dict[int, SimIssue]:
        return {issue.number: issue for issue in self.issues}

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family, "seed": self.seed,
            "issues": [
                {"number": i.number, "priority": i.priority, "estimate_min": round(i.estimate_min, 3),
                 "actual_min": round(i.actual_min, 3), "depends_on": list(i.depends_on), "created": round(i.created, 3)}
                for i in self.issues
            ],
        }


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WorkloadError(f"{where}: expected a number, got {value!r}")
    if positive and value <= 0:
        raise WorkloadError(f"{where}: must be above 0, got {value!r}")
    return float(value)


def _issue(raw: Any, index: int) -> SimIssue:
    where = f"issues[{index}]"
    if not isinstance(raw, dict):
        raise WorkloadError(f"{where}: expected an object")
    if "number" not in raw or not isinstance(raw["number"], int) or isinstance(raw["number"], bool):
        raise WorkloadError(f"{where}: 'number' must be an integer")
    priority = raw.get("priority", "P2")
    if priority not in PRIORITIES:
        raise WorkloadError(f"{where}: priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")
    estimate = _number(raw.get("estimate_min"), f"{where}.estimate_min", positive=True)
    actual = _number(raw.get("actual_min", estimate), f"{where}.actual_min", positive=True)
    depends_on = raw.get("depends_on", [])
    if not isinstance(depends_on, list) or not all(isinstance(dep, int) and not isinstance(dep, bool) for dep in depends_on):
        raise WorkloadError(f"{where}.depends_on: expected a list of issue numbers")
    created_raw = raw.get("created", 0)
    created = _iso_minutes(created_raw, f"{where}.created") if isinstance(created_raw, str) else _number(created_raw, f"{where}.created")
    return SimIssue(raw["number"], priority, estimate, actual, tuple(depends_on), created)


_ISO_OFFSET = 10**9
"""ISO times are parsed to epoch minutes shifted by this, then made relative to the newest."""


def _iso_minutes(text: str, where: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise WorkloadError(f"{where}: expected minutes or an ISO 8601 time, got {text!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return _ISO_OFFSET + moment.timestamp() / 60.0


def _relative_created(issues: tuple[SimIssue, ...]) -> tuple[SimIssue, ...]:
    """ISO creation times as minutes before the newest of them (the start of the simulation)."""
    iso = [issue.created for issue in issues if issue.created >= _ISO_OFFSET / 2]
    if not iso:
        return issues
    start = max(iso)
    return tuple(replace(issue, created=issue.created - start) if issue.created >= _ISO_OFFSET / 2 else issue for issue in issues)


def parse_workload(data: Any, family: str = "file") -> Workload:
    """Validate a decoded JSON workload; raises WorkloadError naming the bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
        raise WorkloadError('a workload is an object with an "issues" list')
    issues = _relative_created(tuple(_issue(raw, index) for index, raw in enumerate(data["issues"])))
    numbers = [issue.number for issue in issues]
    if len(set(numbers)) != len(numbers):
        raise WorkloadError("issue numbers must be unique")
    known = set(numbers)
    for issue in issues:
        missing = [dep for dep in issue.depends_on if dep not in known]
        if missing:
            raise WorkloadError(f"issue {issue.number} depends on unknown issue(s) {missing}")
    cycles = find_cycles(build_graph({str(issue.number): [str(dep) for dep in issue.depends_on] for issue in issues}))
    if cycles:
        raise WorkloadError("dependency cycle: " + "; ".join(" → ".join(f"#{n}" for n in (*cycle, cycle[0])) for cycle in cycles))
    return Workload(issues, family=str(data.get("family", family)), seed=int(data.get("seed", 0) or 0))


def load_workload(path: Path) -> Workload:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise WorkloadError(f"cannot read {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise WorkloadError(f"{path} is not JSON: {error}") from error
    return parse_workload(data, family=Path(path).stem)
