"""Why a queued task waits (held, paused, in a cycle, on its dependencies, after a failure's backoff), or None."""

from __future__ import annotations

from dataclasses import dataclass

from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import Snapshot, TaskRecord


@dataclass(frozen=True)
class BlockedTask:
    issue: str
    reason: str
    """One of: dependency, failed_dependency, cycle, paused, held, retry_wait, external."""
    detail: str
    waiting_on: tuple[str, ...] = ()
    cycle: tuple[str, ...] = ()


def short_key(key: str, repo: str) -> str:
    """`#12` for an issue of the same repository, the full `owner/name#12` otherwise."""
    other, _, number = key.rpartition("#")
    return f"#{number}" if other == repo else key


UnknownRefs = tuple[tuple[str, str], ...]
"""(task, reference) pairs naming issues nobody knows."""


class Readiness:
    """Judges queued tasks of successive snapshots, keeping each dependency verdict while the
    task and its dependencies' records stay the same objects.

    Snapshots are immutable and the reducer replaces only the records that change, so the same
    records give the same verdict; its detail text is the costly part.
    """

    KEPT = 200_000
    """Verdicts kept; past this the memo starts again."""

    def __init__(self) -> None:
        self._verdicts: dict[int, tuple[TaskRecord, tuple[TaskRecord | None, ...], BlockedTask | None, UnknownRefs]] = {}
        """By task record identity: the dependency records it was judged against and the verdict."""

    def blocker(
        self, key: str, task: TaskRecord, snapshot: Snapshot, in_cycle: dict[str, tuple[str, ...]], now: float,
        unknown: list[tuple[str, str]],
    ) -> BlockedTask | None:
        """Why the task cannot start now, or None; unknown references are added to `unknown`."""
        if task.held_reason:
            return BlockedTask(key, "held", task.held_reason)
        if task.overrides.paused:
            return BlockedTask(key, "paused", "paused by operator")
        if key in in_cycle:
            cycle = in_cycle[key]
            path = " → ".join(short_key(member, task.issue.repo) for member in cycle + cycle[:1])
            return BlockedTask(key, "cycle", f"cycle {path}", cycle=cycle)
        waiting, unknown_here = self._dependencies(key, task, snapshot)
        unknown.extend(unknown_here)
        if waiting:
            return waiting
        if task.not_before and task.not_before > now:
            return BlockedTask(key, "retry_wait", f"retry after backoff ({task.not_before - now:.0f}s)")
        return None

    def _dependencies(self, key: str, task: TaskRecord, snapshot: Snapshot) -> tuple[BlockedTask | None, UnknownRefs]:
        tasks = snapshot.tasks
        dep_records = tuple(tasks.get(dep) for dep in task.deps)
        cached = self._verdicts.get(id(task))
        if cached is not None and cached[0] is task and all(a is b for a, b in zip(cached[1], dep_records)):
            return cached[2], cached[3]
        blocker, unknown = dependency_blocker(key, task, dep_records, snapshot)
        if len(self._verdicts) >= self.KEPT:
            self._verdicts.clear()
        self._verdicts[id(task)] = (task, dep_records, blocker, unknown)
        return blocker, unknown


def dependency_blocker(
    key: str, task: TaskRecord, dep_records: tuple[TaskRecord | None, ...], snapshot: Snapshot,
) -> tuple[BlockedTask | None, UnknownRefs]:
    """What the task's dependencies say: waiting on open ones, failed ones, or nothing; and unknown references."""
    waiting: list[str] = []
    failed: list[str] = []
    unknown: list[tuple[str, str]] = []
    for dep, dep_task in zip(task.deps, dep_records):
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
    blocker = None
    if failed:
        detail = "waits on " + ", ".join(_detail(dep, snapshot, task.issue.repo) for dep in failed + waiting)
        blocker = BlockedTask(key, "failed_dependency", detail, waiting_on=tuple(failed + waiting))
    elif waiting:
        detail = "waits on " + ", ".join(_detail(dep, snapshot, task.issue.repo) for dep in waiting)
        blocker = BlockedTask(key, "dependency", detail, waiting_on=tuple(waiting))
    return blocker, tuple(unknown)


def _detail(dep: str, snapshot: Snapshot, repo: str) -> str:
    task = snapshot.tasks.get(dep)
    state = task.state.value if task else "open, not queued here"
    return f"{short_key(dep, repo)} ({state})"
