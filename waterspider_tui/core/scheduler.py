"""Pure, deterministic scheduling: from a snapshot to ready, blocked and what to start now."""

from __future__ import annotations

from dataclasses import dataclass, field

from waterspider_tui.core.dag import build_graph, cycle_members, downstream_work, find_cycles
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.priority import PriorityConfig, Score, estimate_minutes, score_task
from waterspider_tui.core.state import Snapshot, TaskRecord


@dataclass(frozen=True)
class SchedulerConfig:
    capacity: int = 5
    """Sessions running at once, over all executors."""
    priority: PriorityConfig = field(default_factory=PriorityConfig)
    critical_share: float = 0.5
    """A ready task whose remaining chain is at least this share of the remaining lower bound
    jumps the queue (shown as "on the critical path"); 0 turns it off."""


@dataclass(frozen=True)
class ReadyTask:
    issue: str
    score: Score


@dataclass(frozen=True)
class BlockedTask:
    issue: str
    reason: str
    """One of: dependency, failed_dependency, cycle, paused, held, retry_wait, external."""
    detail: str
    waiting_on: tuple[str, ...] = ()
    cycle: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    ready: tuple[ReadyTask, ...]
    blocked: tuple[BlockedTask, ...]
    running: tuple[str, ...]
    dispatch: tuple[str, ...]
    """Ready tasks to start now, in order, filling free capacity."""
    unknown_refs: tuple[tuple[str, str], ...]
    """(task, reference) pairs naming issues nobody knows: warned about, not waited on."""
    cycles: tuple[tuple[str, ...], ...]
    free_slots: int

    def ready_keys(self) -> list[str]:
        return [item.issue for item in self.ready]


def _open(task: TaskRecord) -> bool:
    return task.state in (TaskState.QUEUED, TaskState.RUNNING)


def short_key(key: str, repo: str) -> str:
    """`#12` for an issue of the same repository, the full `owner/name#12` otherwise."""
    other, _, number = key.rpartition("#")
    return f"#{number}" if other == repo else key


def _blocker_detail(dep: str, snapshot: Snapshot, repo: str) -> str:
    task = snapshot.tasks.get(dep)
    state = task.state.value if task else "open, not queued here"
    return f"{short_key(dep, repo)} ({state})"


def plan(snapshot: Snapshot, now: float, config: SchedulerConfig | None = None) -> Plan:
    """Decide the queues for this snapshot; never waits, never mutates."""
    config = config or SchedulerConfig()
    tasks = snapshot.tasks
    open_tasks = {key: task for key, task in tasks.items() if _open(task)}
    graph = build_graph({key: task.deps for key, task in open_tasks.items()})
    cycles = find_cycles(graph)
    in_cycle = cycle_members(cycles)
    durations = {
        key: estimate_minutes(task.issue) or config.priority.default_estimate_min
        for key, task in open_tasks.items()
    }
    tail = downstream_work(graph, durations)
    max_tail = max(tail.values(), default=0.0)
    lower_bound = max(
        max((durations[k] + tail.get(k, 0.0) for k in open_tasks), default=0.0),
        sum(durations.values()) / max(config.capacity, 1),
    )

    ready: list[ReadyTask] = []
    blocked: list[BlockedTask] = []
    unknown: list[tuple[str, str]] = []
    running = tuple(sorted(key for key, task in open_tasks.items() if task.state is TaskState.RUNNING))
    for key, task in open_tasks.items():
        if task.state is TaskState.RUNNING:
            continue
        blocker = _blocked_reason(key, task, snapshot, in_cycle, now, unknown)
        if blocker:
            blocked.append(blocker)
            continue
        score = score_task(
            task.issue, task.overrides, now=now, downstream_min=tail.get(key, 0.0),
            max_downstream_min=max_tail, unblocks=graph.out_degree(key), config=config.priority,
        )
        chain = durations[key] + tail.get(key, 0.0)
        if config.critical_share and lower_bound > 0 and tail.get(key, 0.0) > 0 and chain >= config.critical_share * lower_bound:
            score = Score(score.total, score.parts, score.level, score.pinned, score.bump, critical=True)
        ready.append(ReadyTask(key, score))
    ready.sort(key=lambda item: _order(item, tasks[item.issue]))
    blocked.sort(key=lambda item: _natural(item.issue))
    free = max(config.capacity - len(running), 0)
    paused = snapshot.dispatcher_paused and not (snapshot.paused_until and snapshot.paused_until <= now)
    dispatch = () if paused else tuple(item.issue for item in ready[:free])
    return Plan(tuple(ready), tuple(blocked), running, dispatch, tuple(sorted(unknown)), tuple(cycles), free)


def _order(item: ReadyTask, task: TaskRecord) -> tuple[object, ...]:
    score = item.score
    return (not score.pinned, not score.critical, -score.total, task.issue.created, _natural(item.issue))


def _natural(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)


def _blocked_reason(
    key: str, task: TaskRecord, snapshot: Snapshot, in_cycle: dict[str, tuple[str, ...]],
    now: float, unknown: list[tuple[str, str]],
) -> BlockedTask | None:
    if task.held_reason:
        return BlockedTask(key, "held", task.held_reason)
    if task.overrides.paused:
        return BlockedTask(key, "paused", "paused by operator")
    if key in in_cycle:
        cycle = in_cycle[key]
        path = " → ".join(short_key(member, task.issue.repo) for member in cycle + cycle[:1])
        return BlockedTask(key, "cycle", f"cycle {path}", cycle=cycle)
    waiting: list[str] = []
    failed: list[str] = []
    for dep in task.deps:
        dep_task = snapshot.tasks.get(dep)
        if dep_task is None:
            if dep in task.issue.external_open:
                waiting.append(dep)
            elif dep not in task.issue.external_closed:
                unknown.append((key, dep))
            continue
        if dep_task.state in (TaskState.SUCCEEDED, TaskState.GONE) or dep_task.issue.closed:
            continue
        if dep_task.state in (TaskState.FAILED, TaskState.CANCELLED):
            failed.append(dep)
        else:
            waiting.append(dep)
    if failed:
        detail = "waits on " + ", ".join(_blocker_detail(dep, snapshot, task.issue.repo) for dep in failed + waiting)
        return BlockedTask(key, "failed_dependency", detail, waiting_on=tuple(failed + waiting))
    if waiting:
        detail = "waits on " + ", ".join(_blocker_detail(dep, snapshot, task.issue.repo) for dep in waiting)
        return BlockedTask(key, "dependency", detail, waiting_on=tuple(waiting))
    if task.not_before and task.not_before > now:
        return BlockedTask(key, "retry_wait", f"retry after backoff ({task.not_before - now:.0f}s)")
    return None
