"""Why a queued task waits (held, paused, in a cycle, on its dependencies, after a failure's backoff), or None;
and, for stacked dependants, the blocker branch a task starts from.

When a dependant may start is the operator's choice (`[pipeline] dependants_wait_for`):
`merged` counts a blocker done once its pull request is merged (or its issue closed);
`gate_passed` counts it done as soon as its session succeeded (its gate passed), and the
dependant then starts from its unmerged blockers' work, stacked on them: from the first one's
branch, with the others' branches merged in at prepare, in dependency order (waiting for them to
be merged could wait for ever where nothing is merged, as in a run without pull requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


DependantsWaitFor = Literal["merged", "gate_passed"]
"""When a dependant counts its blocker done: its pull request merged, or its gate passed (stacked)."""


@dataclass(frozen=True)
class StackBase:
    """The blocker whose branch a stacked dependant starts from, and where that branch is."""

    issue: str
    branch: str
    executor: str = ""
    host: str = ""


def blocker_done(dep_task: TaskRecord, wait_for: DependantsWaitFor) -> bool:
    """Whether a dependency lets its dependant start: closed or gone upstream always; succeeded
    when waiting for gates; succeeded with its pull request merged when waiting for merges."""
    if dep_task.state is TaskState.GONE or dep_task.issue.closed:
        return True
    return dep_task.state is TaskState.SUCCEEDED and (wait_for == "gate_passed" or dep_task.pr_merged or not pull_request_url(dep_task))


def pull_request_url(task: TaskRecord) -> str:
    """The pull request its last session opened (the pull-request step's fact), or ''."""
    return str(task.session.facts.get("pr_url", "")) if task.session is not None else ""


def _unmerged(dep_task: TaskRecord | None) -> bool:
    """Succeeded here, but its work is not on the base yet (not merged, not closed upstream)."""
    return dep_task is not None and dep_task.state is TaskState.SUCCEEDED and not dep_task.pr_merged and not dep_task.issue.closed


def stack_bases(task: TaskRecord, snapshot: Snapshot, wait_for: DependantsWaitFor) -> tuple[StackBase, ...]:
    """The blocker branches the task's worktree starts from: with `gate_passed`, every dependency
    that passed its gate and is not merged yet, a blocker before the blockers that depend on it
    (otherwise in the order the issue names them); empty when it starts from the base."""
    if wait_for != "gate_passed":
        return ()
    bases: dict[str, StackBase] = {}
    for dep in task.deps:
        dep_task = snapshot.tasks.get(dep)
        if _unmerged(dep_task) and dep_task is not None and dep_task.session is not None and dep not in bases:
            session = dep_task.session
            bases[dep] = StackBase(dep, session.branch, session.executor, session.host)
    return tuple(bases[key] for key in _dependency_order(list(bases), snapshot))


def stack_base(task: TaskRecord, snapshot: Snapshot, wait_for: DependantsWaitFor) -> StackBase | None:
    """The blocker branch the task's worktree starts from (the first of `stack_bases`), or None."""
    bases = stack_bases(task, snapshot, wait_for)
    return bases[0] if bases else None


def _dependency_order(keys: list[str], snapshot: Snapshot) -> list[str]:
    """`keys` with each one after those of them it depends on, directly or through others; stable otherwise."""
    wanted = set(keys)
    below: dict[str, set[str]] = {}
    for key in keys:
        seen: set[str] = set()
        pending = list(_deps_of(key, snapshot))
        while pending:
            dep = pending.pop()
            if dep not in seen:
                seen.add(dep)
                pending.extend(_deps_of(dep, snapshot))
        below[key] = seen & wanted - {key}
    ordered: list[str] = []
    remaining = list(keys)
    while remaining:
        ready = next((key for key in remaining if not below[key] - set(ordered)), remaining[0])  # a cycle keeps the named order
        ordered.append(ready)
        remaining.remove(ready)
    return ordered


def _deps_of(key: str, snapshot: Snapshot) -> tuple[str, ...]:
    task = snapshot.tasks.get(key)
    return tuple(task.deps) if task is not None else ()


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

    def __init__(self, wait_for: DependantsWaitFor = "gate_passed") -> None:
        self.wait_for = wait_for
        """When a dependant counts its blocker done (see the module's docstring)."""
        self._verdicts: dict[int, tuple[TaskRecord, tuple[TaskRecord | None, ...], BlockedTask | None, UnknownRefs]] = {}
        """By task record identity: the dependency records it was judged against and the verdict."""

    def blocker(
        self, key: str, task: TaskRecord, snapshot: Snapshot, in_cycle: dict[str, tuple[str, ...]], now: float,
        unknown: list[tuple[str, str]],
    ) -> BlockedTask | None:
        """Why the task cannot start now, or None; unknown references are added to `unknown`."""
        if task.held_reason:
            return BlockedTask(key, "held", task.held_reason)
        if task.blockers_conflict is not None:
            return BlockedTask(key, "held", task.blockers_conflict.reason, waiting_on=task.blockers_conflict.issues)
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
        blocker, unknown = dependency_blocker(key, task, dep_records, snapshot, self.wait_for)
        if len(self._verdicts) >= self.KEPT:
            self._verdicts.clear()
        self._verdicts[id(task)] = (task, dep_records, blocker, unknown)
        return blocker, unknown


def dependency_blocker(
    key: str, task: TaskRecord, dep_records: tuple[TaskRecord | None, ...], snapshot: Snapshot,
    wait_for: DependantsWaitFor = "gate_passed",
) -> tuple[BlockedTask | None, UnknownRefs]:
    """What the task's dependencies say: waiting on open ones, failed ones, unmerged ones, or
    nothing; and unknown references."""
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
        if blocker_done(dep_task, wait_for):
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
    state = task.state.value if task else (unreadable_file(dep, snapshot) or "open, not queued here")
    if task is not None and task.state is TaskState.SUCCEEDED and not task.pr_merged and pull_request_url(task):
        state = "succeeded, its pull request not merged yet"
    return f"{short_key(dep, repo)} ({state})"


def unreadable_file(key: str, snapshot: Snapshot) -> str:
    """'its file cannot be read: <why>' for an issue known only from a file its source rejects ('' otherwise)."""
    error = snapshot.rejected.get(snapshot.rejected_issues.get(key, ""))
    return f"its file cannot be read: {error}" if error is not None else ""
