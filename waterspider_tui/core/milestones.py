"""Milestone progress from a snapshot: what is done, running, blocked or failed, what blocks it, and the merge order.

Pure functions for `status`, the report, the control center, the notifiers and the milestone
integrator, so they all count the same way. An issue closed upstream counts as done (as it does
for its dependants); one that left the work without being closed (its trigger label removed) is
no longer part of the milestone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Iterable, Literal, Mapping

import networkx as nx

from waterspider_tui.core.dag import build_graph, cycle_members, find_cycles
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.readiness import short_key
from waterspider_tui.core.state import Snapshot, TaskRecord

DoneWhen = Literal["succeeded", "closed"]
"""`succeeded`: the issue's session succeeded here (its gate passed); `closed`: the issue is closed
upstream (its pull request was merged)."""


@dataclass(frozen=True)
class MilestoneProgress:
    """Where one milestone of one repository stands; every tuple holds issue keys."""

    repo: str
    name: str
    issues: tuple[str, ...]
    """Every issue of the milestone, in dependency order (the order an integration merges them)."""
    done: tuple[str, ...]
    running: tuple[str, ...]
    queued: tuple[str, ...]
    """Open and free to start (or waiting out a retry's backoff)."""
    blocked: tuple[str, ...]
    """Open and waiting: on a dependency, held, paused, or in a cycle."""
    failed: tuple[str, ...]
    """Failed or cancelled, and not sent round again."""
    awaiting_merge: tuple[str, ...] = ()
    """Succeeded here but not yet closed upstream (only when done means closed)."""
    blocking: tuple[str, ...] = ()
    """What keeps the milestone from completing by itself, in or outside it: failed or cancelled
    issues, held or paused ones, cycle members, open issues not worked on here."""

    @property
    def total(self) -> int:
        return len(self.issues)

    @property
    def complete(self) -> bool:
        return bool(self.issues) and len(self.done) == len(self.issues)

    @property
    def is_blocked(self) -> bool:
        return bool(self.blocking)

    def summary(self) -> str:
        """One line: `v1.0: 3/5 done · 1 running · 1 blocked (by #12)`."""
        parts = [f"{self.name}: {len(self.done)}/{self.total} done"]
        for label, keys in (("running", self.running), ("queued", self.queued), ("awaiting merge", self.awaiting_merge),
                            ("blocked", self.blocked), ("failed", self.failed)):
            if keys:
                parts.append(f"{len(keys)} {label}")
        line = " · ".join(parts)
        if self.blocking:
            line += " (blocked by " + ", ".join(short_key(key, self.repo) for key in self.blocking) + ")"
        return line

    def as_dict(self) -> dict[str, object]:
        """For `status --json` and the report."""
        return {
            "repo": self.repo, "milestone": self.name, "total": self.total, "complete": self.complete,
            **{name: list(getattr(self, name)) for name in ("issues", "done", "running", "queued", "blocked", "failed", "awaiting_merge", "blocking")},
        }


def milestone_progress(
    snapshot: Snapshot, *, done_when: DoneWhen = "succeeded", cycles: Iterable[tuple[str, ...]] | None = None,
    blocked: Collection[str] | None = None,
) -> list[MilestoneProgress]:
    """Every milestone of the snapshot's issues, sorted by repository and name.

    `cycles` and `blocked` (the keys of `Plan.blocked`) come from the plan when there is one, so
    an issue is blocked here exactly when `status` and the control center say so (a blocker not
    yet merged, a retry's backoff); without them the dependencies are judged here.
    """
    members: dict[tuple[str, str], list[str]] = {}
    for key, task in snapshot.tasks.items():
        if task.issue.milestone and _belongs(task):
            members.setdefault((task.issue.repo, task.issue.milestone), []).append(key)
    if not members:
        return []
    in_cycle = _in_cycle(snapshot, cycles)
    roots = _Roots(snapshot, in_cycle)
    return [_progress(snapshot, repo, name, keys, done_when, in_cycle, roots, blocked) for (repo, name), keys in sorted(members.items())]


def progress_of(snapshot: Snapshot, repo: str, name: str, *, done_when: DoneWhen = "succeeded") -> MilestoneProgress | None:
    """One milestone's progress, or None when no issue of the snapshot has it."""
    return next((item for item in milestone_progress(snapshot, done_when=done_when) if (item.repo, item.name) == (repo, name)), None)


def integration_order(snapshot: Snapshot, keys: Iterable[str]) -> list[str]:
    """The keys in dependency order (what an issue waits on first), ties by issue number.

    Dependencies through issues outside the set count too: if C waits on X and X waits on A,
    A comes before C. Issues caught in a cycle come last, by number.
    """
    wanted = set(keys)
    graph = build_graph({key: task.deps for key, task in snapshot.tasks.items()})
    graph.add_nodes_from(wanted)
    around = set(wanted)
    for key in wanted:
        around |= nx.ancestors(graph, key)
    sub = graph.subgraph(around).copy()
    tangled = set(cycle_members(sub, find_cycles(sub)))
    sub.remove_nodes_from(tangled)
    ordered = [key for key in nx.lexicographical_topological_sort(sub, key=_natural) if key in wanted]
    return ordered + sorted(wanted & tangled, key=_natural)


def completed_by(snapshot: Snapshot, progress: MilestoneProgress, key: str) -> bool:
    """Whether `key` is the issue whose ending completed the milestone: the last one to end.

    Decided from the snapshot alone (the latest `finished_at`, ties by issue number), so a
    batch offered again after a restart, or events delivered late, name the same issue, and
    a milestone is announced and integrated once per completion.
    """
    if not progress.complete or key not in progress.done:
        return False
    return max(progress.done, key=lambda done: (_ended_at(snapshot.tasks.get(done)), _natural(done))) == key


def milestones_of(snapshot: Snapshot, keys: Iterable[str]) -> set[tuple[str, str]]:
    """(repo, milestone) of each of these issues that has one."""
    found = set()
    for key in keys:
        task = snapshot.tasks.get(key)
        if task is not None and task.issue.milestone:
            found.add((task.issue.repo, task.issue.milestone))
    return found


def _belongs(task: TaskRecord) -> bool:
    """An issue gone without being closed (its trigger label removed) left the work."""
    return not (task.state is TaskState.GONE and not task.issue.closed)


def _is_done(task: TaskRecord | None, done_when: DoneWhen) -> bool:
    if task is None:
        return False
    if done_when == "closed":
        return task.issue.closed
    return task.state is TaskState.SUCCEEDED or task.issue.closed


def _progress(
    snapshot: Snapshot, repo: str, name: str, keys: list[str], done_when: DoneWhen,
    in_cycle: Mapping[str, tuple[str, ...]], roots: _Roots, blocked: Collection[str] | None = None,
) -> MilestoneProgress:
    ordered = integration_order(snapshot, keys)
    buckets: dict[str, list[str]] = {label: [] for label in ("done", "running", "queued", "blocked", "failed", "awaiting_merge")}
    blocking: dict[str, None] = {}
    for key in ordered:
        task = snapshot.tasks[key]
        if _is_done(task, done_when):
            buckets["done"].append(key)
        elif task.state is TaskState.SUCCEEDED:
            buckets["awaiting_merge"].append(key)
        elif task.state is TaskState.RUNNING:
            buckets["running"].append(key)
        elif task.state in (TaskState.FAILED, TaskState.CANCELLED):
            buckets["failed"].append(key)
            blocking[key] = None
        elif key in blocked if blocked is not None else _waits(task, snapshot, in_cycle):
            buckets["blocked"].append(key)
            blocking.update(dict.fromkeys(roots.of(key)))
        else:
            buckets["queued"].append(key)
    return MilestoneProgress(
        repo=repo, name=name, issues=tuple(ordered),
        blocking=tuple(sorted(blocking, key=_natural)), **{label: tuple(items) for label, items in buckets.items()},
    )


def _waits(task: TaskRecord, snapshot: Snapshot, in_cycle: Mapping[str, tuple[str, ...]]) -> bool:
    if task.held_reason or task.overrides.paused or task.key in in_cycle:
        return True
    return any(not _dep_done(dep, task, snapshot) for dep in task.deps)


def _dep_done(dep: str, task: TaskRecord, snapshot: Snapshot) -> bool:
    """As the scheduler sees it: succeeded, gone or closed is done; an unknown reference is not waited on."""
    record = snapshot.tasks.get(dep)
    if record is None:
        return dep not in task.issue.external_open
    return record.state in (TaskState.SUCCEEDED, TaskState.GONE) or record.issue.closed


class _Roots:
    """What a waiting issue ultimately waits on that will not resolve by itself (memoised per call)."""

    def __init__(self, snapshot: Snapshot, in_cycle: Mapping[str, tuple[str, ...]]) -> None:
        self.snapshot = snapshot
        self.in_cycle = in_cycle
        self._memo: dict[str, tuple[str, ...]] = {}

    def of(self, key: str) -> tuple[str, ...]:
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = ()  # a dependency loop reached again adds nothing new
        task = self.snapshot.tasks.get(key)
        found: dict[str, None] = {}
        if task is None:
            return ()
        if task.state in (TaskState.FAILED, TaskState.CANCELLED) or task.held_reason or task.overrides.paused:
            found[key] = None
        elif key in self.in_cycle:
            found.update(dict.fromkeys(self.in_cycle[key]))
        elif task.state is TaskState.QUEUED:
            for dep in task.deps:
                if _dep_done(dep, task, self.snapshot):
                    continue
                if dep not in self.snapshot.tasks:
                    found[dep] = None  # open, but not worked on here
                else:
                    found.update(dict.fromkeys(self.of(dep)))
        self._memo[key] = tuple(found)
        return self._memo[key]


def _in_cycle(snapshot: Snapshot, cycles: Iterable[tuple[str, ...]] | None) -> dict[str, tuple[str, ...]]:
    if cycles is not None:
        return {member: cycle for cycle in cycles for member in cycle}
    graph = build_graph({key: task.deps for key, task in snapshot.tasks.items() if task.state is TaskState.QUEUED})
    return cycle_members(graph, find_cycles(graph))


def _ended_at(task: TaskRecord | None) -> float:
    if task is None:
        return 0.0
    return task.finished_at or task.first_seen


def _natural(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)
