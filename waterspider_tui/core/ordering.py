"""The orderings of ready tasks: `ours` in lanes, with the share other work keeps, and the plain ones measured beside it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping

from waterspider_tui.core.long_poles import Pole
from waterspider_tui.core.schedule_structure import Structure
from waterspider_tui.core.state import TaskRecord

if TYPE_CHECKING:
    from waterspider_tui.core.priority import Score
    from waterspider_tui.core.scheduler import ReadyTask

PINNED, OVERDUE_POLE, BUMPED, P0_WORK, DUE_POLE, REST, LONGEST_FIRST = range(7)
"""The lanes of `ours`, first to last (the module docstring of `core.scheduler` says why)."""
MEMO_KEPT = 200_000
SHORTEST_MINUTES = 5.0
"""Score per hour counts no task as shorter than this."""


@dataclass(frozen=True)
class Lanes:
    """What `ours` needs beside the scores: the structure, the long poles due, the slots."""

    structure: Structure
    poles: Mapping[str, Pole]
    longest_first_weight: float | None
    """The label weight of the longest-first level (P3), or None when that is off."""
    capacity: int
    running_first: int
    """Running sessions that are P0 work."""
    running_other: int
    """Running sessions that are not."""
    other_share: float


KeyMemo = dict[str, tuple["Score", tuple[object, ...]]]
"""Each ready task's last sort key with the score it came from (kept by the planner)."""


def order_ours(ready: list[ReadyTask], tasks: Mapping[str, TaskRecord], lanes: Lanes, memo: KeyMemo | None = None) -> list[ReadyTask]:
    """`ready` in the order of `ours`, then the share guard: while other work is ready, P0 work
    takes no more slots than other work leaves it (`other_share`); the other work that keeps
    those slots moves ahead of the P0 work that would have taken them."""
    keyed = sorted(((_memo_key(item, tasks, lanes, memo), item) for item in ready), key=lambda pair: pair[0])
    ordered = [item for _, item in keyed]
    reserve = _reserve(lanes.capacity, lanes.other_share)
    first_at = [index for index, (key, _) in enumerate(keyed) if key[0] and key[1] == P0_WORK]
    other_at = [index for index, (key, _) in enumerate(keyed) if key[0] and key[1] > P0_WORK]
    allowed = max(lanes.capacity - reserve - lanes.running_first, 0)
    kept = max(reserve - lanes.running_other, 0)
    if not kept or len(first_at) <= allowed or not other_at:
        return ordered
    note = f"P0 work takes at most {lanes.capacity - reserve} of {lanes.capacity} slots while other work waits"
    deferred, moved = first_at[allowed:], other_at[:kept]
    waiting = [replace(ordered[index], score=replace(ordered[index].score, held=note)) if number < len(moved) else ordered[index]
               for number, index in enumerate(deferred)]
    front = ordered[:deferred[0]]
    taken = set(deferred) | set(moved)
    after = [ordered[index] for index in range(deferred[0], len(ordered)) if index not in taken]
    return front + [ordered[index] for index in moved] + waiting + after


def _reserve(capacity: int, share: float) -> int:
    """Slots other work keeps while P0 work waits: the share of the capacity, at least one from two slots on."""
    if share <= 0 or capacity < 2:
        return 0
    return min(max(int(capacity * share), 1), capacity - 1)


def _memo_key(item: ReadyTask, tasks: Mapping[str, TaskRecord], lanes: Lanes, memo: KeyMemo | None) -> tuple[object, ...]:
    """`_lane_key`, reused while the score is the same object (and not a long pole's: poles move)."""
    score = item.score
    if memo is None or score.critical:
        return _lane_key(item, tasks[item.issue], lanes)
    known = memo.get(item.issue)
    if known is not None and known[0] is score:
        return known[1]
    key = _lane_key(item, tasks[item.issue], lanes)
    if len(memo) >= MEMO_KEPT:
        memo.clear()
    memo[item.issue] = (score, key)
    return key


def _lane_key(item: ReadyTask, task: TaskRecord, lanes: Lanes) -> tuple[object, ...]:
    """Pinned first, then by lane: long poles overdue (the most urgent first), bumped up (by
    score), P0 work (for the P0 that can be done soonest first), long poles due, the rest by
    score per hour of work, the longest-first level by score (longest first)."""
    score = item.score
    pole = lanes.poles.get(item.issue) if score.critical else None
    rank: float
    if pole is not None and pole.overdue:
        lane, rank = OVERDUE_POLE, -pole.lead
    elif score.bump > 0:
        lane, rank = BUMPED, -score.total
    elif score.first:
        lane, rank = P0_WORK, lanes.structure.urgent[item.issue].minutes
    elif pole is not None:
        lane, rank = DUE_POLE, -pole.lead
    elif lanes.longest_first_weight is not None and score.level and score.parts[0].value <= lanes.longest_first_weight:
        lane, rank = LONGEST_FIRST, -score.total
    else:
        minutes = score.minutes
        lane, rank = REST, -score.total / (minutes if minutes > SHORTEST_MINUTES else SHORTEST_MINUTES)
    issue = task.issue
    return (not score.pinned, lane, rank, -score.total, issue.created, issue.repo, issue.number)


def _seed(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    return (not item.score.pinned, -item.score.total, task.issue.created, task.issue.repo, task.issue.number)


def _priority(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    label = item.score.parts[0].value
    return (not item.score.pinned, -label, task.issue.created, task.issue.repo, task.issue.number)


def _fifo(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    return (not item.score.pinned, task.issue.created, task.issue.repo, task.issue.number)


def _critical_path(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    return (not item.score.pinned, -structure.chain(item.issue), task.issue.created, task.issue.repo, task.issue.number)


def order_plain(name: str, ready: list[ReadyTask], tasks: Mapping[str, TaskRecord], structure: Structure) -> list[ReadyTask]:
    """`ready` in one of the orderings `ours` is measured against."""
    key = {"seed": _seed, "priority": _priority, "fifo": _fifo, "critical-path": _critical_path}[name]
    return sorted(ready, key=lambda item: key(item, tasks[item.issue], structure))
