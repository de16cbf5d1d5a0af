"""The open task graph's figures the scheduler ranks by, cached and carried forward as tasks finish.

`plan()` runs after every stored event; rebuilding the graph each time made it linear in the
backlog with a large constant (networkx), so a run was quadratic. A `Structure` is computed
once for a set of open tasks and reused while that set only loses tasks that nothing open
waited on (the usual case: a task finishes, its dependencies were done before it started).
Removing such tasks changes no other task's tail, inheritance, out-degree or cycle, so the
reuse is exact; anything else (a new or edited issue, a requeue) rebuilds from scratch.
When only the learned estimates change, the graph figures stay and only the durations, tails
and chain orders are recomputed (`_reweigh`), from the topological order kept for that.
The P0 figures (`urgent`) look upstream, so they are recomputed when a task they cover
finishes, over those tasks only (P0s and what they wait on). What is carried lives in an
`Analyser`, one per `Planner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from operator import attrgetter, is_
from typing import Callable, Mapping

import networkx as nx

from waterspider_tui.core.dag import build_graph, cycle_members, find_cycles
from waterspider_tui.core.estimates import Estimates, Learned
from waterspider_tui.core.models import Issue
from waterspider_tui.core.priority import Inherited, PriorityConfig, estimate_minutes, label_weight
from waterspider_tui.core.state import TaskRecord

Basics = tuple[float, str, float | None]
"""An issue's label weight, priority level ('' without one) and estimate (None without one)."""
BasicsOf = Callable[[Issue], Basics]
_ISSUE_OF = attrgetter("issue")


def issue_basics(issue: Issue, config: PriorityConfig) -> tuple[float, str, float | None]:
    """The issue's label weight, level and estimate (`Analyser.basics` keeps them per issue: regexes are slow)."""
    weight, level = label_weight(issue.labels, config)
    return weight, level, estimate_minutes(issue)


@dataclass(frozen=True)
class Urgent:
    """The P0 (`PriorityConfig.first_level`) a task is work for, of those it leads to the one
    that can be done soonest, and how soon: the longest chain of open work ending at it."""

    minutes: float
    issue: str


@dataclass(frozen=True)
class Structure:
    """Durations, downstream work, inherited priority and cycles of one set of open tasks."""

    config: PriorityConfig
    issues: Mapping[str, Issue]
    """The issue object each figure was computed from, for every task open at the last rebuild."""
    deps: Mapping[str, tuple[str, ...]]
    open_keys: frozenset[str]
    durations: Mapping[str, float]
    tail: Mapping[str, float]
    out_degree: Mapping[str, int]
    inherited: Mapping[str, Inherited]
    cycles: tuple[tuple[str, ...], ...]
    in_cycle: dict[str, tuple[str, ...]]
    total_work: float
    by_chain: tuple[str, ...]
    """Keys by chain (own duration plus tail), longest first: the head still open is the longest."""
    by_tail: tuple[str, ...]
    order: tuple[str, ...] = ()
    """Tasks outside cycles in topological order (dependencies first), as of the last rebuild."""
    children: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The tasks outside cycles that wait directly on each task in `order`."""
    levels: Mapping[str, str] = field(default_factory=dict)
    """Each open task's priority level ('' without one)."""
    urgent: Mapping[str, Urgent] = field(default_factory=dict)
    """For each P0 and each task a P0 waits on (directly or not), the P0 it is work for."""
    urgent_order: tuple[str, ...] = ()
    """The keys of `urgent` in topological order, as of the last computation."""
    estimates: Estimates | None = None
    """The learned correction the durations come from (None: estimates as given)."""
    learned: Mapping[str, Learned] = field(default_factory=dict)
    """Each task's learned duration with where it came from (empty without estimates)."""
    build: int = 0
    """Which rebuild this is: figures of the same build never change for a task."""
    chain_at: int = 0
    tail_at: int = 0

    def chain(self, key: str) -> float:
        """The task's own duration plus the longest chain of work waiting on it."""
        return self.durations.get(key, 0.0) + self.tail.get(key, 0.0)

    @property
    def max_tail(self) -> float:
        return self.tail[self.by_tail[self.tail_at]] if self.tail_at < len(self.by_tail) else 0.0

    def remaining_lower_bound(self, capacity: int, done: Mapping[str, float] | None = None) -> float:
        """No schedule of the open work can end sooner than this (on the estimates).

        `done` is the work running sessions have already put in (minutes by key): it comes off
        the total and off the chains they head.
        """
        done = done or {}
        longest = 0.0
        open_keys, durations, tail = self.open_keys, self.durations, self.tail
        # comparisons, not `max`: this walks every running session's chain on every plan
        for key in self.by_chain[self.chain_at:]:
            if key not in open_keys:
                continue
            spent = done.get(key)
            left = durations.get(key, 0.0) + tail.get(key, 0.0) - (spent or 0.0)
            if left > longest:
                longest = left
            if spent is None:
                # chains come longest first: nothing further on is longer than this one
                break
        return max(longest, (self.total_work - sum(done.values())) / max(capacity, 1))

    def without(self, removed: set[str], open_keys: frozenset[str]) -> Structure:
        structure = replace(
            self, open_keys=open_keys, total_work=self.total_work - sum(self.durations[key] for key in removed),
            chain_at=_first_open(self.by_chain, self.chain_at, open_keys),
            tail_at=_first_open(self.by_tail, self.tail_at, open_keys),
        )
        if any(key in self.urgent for key in removed):
            # what a P0 still waits on got shorter: only P0 work is concerned
            order = tuple(key for key in self.urgent_order if key in open_keys)
            urgent, urgent_order = _urgent(order, self.children, self.durations, self.levels, self.config.first_level)
            structure = replace(structure, urgent=urgent, urgent_order=urgent_order)
        return structure


def _first_open(keys: tuple[str, ...], start: int, open_keys: frozenset[str]) -> int:
    while start < len(keys) and keys[start] not in open_keys:
        start += 1
    return start


class Analyser:
    """The figures of successive sets of open tasks under one priority configuration, each
    carried forward from the last when that is exact (see the module docstring).

    A `Planner` holds one; it is not shared, so nothing here is global.
    """

    BASICS_KEPT = 200_000
    """Issues whose basics are kept; past this the memo starts again."""

    def __init__(self, config: PriorityConfig) -> None:
        self.config = config
        self._last: Structure | None = None
        self._builds = 0
        """How many structures were computed (their `build` numbers)."""
        self._basics: dict[int, tuple[Issue, Basics]] = {}
        """Each issue object's basics, by identity (the issue is kept so the identity stays its own)."""

    def basics(self, issue: Issue) -> tuple[float, str, float | None]:
        """`issue_basics`, read once per issue object."""
        cached = self._basics.get(id(issue))
        if cached is not None and cached[0] is issue:
            return cached[1]
        found = issue_basics(issue, self.config)
        if len(self._basics) >= self.BASICS_KEPT:
            self._basics.clear()
        self._basics[id(issue)] = (issue, found)
        return found

    def analyse(self, open_tasks: Mapping[str, TaskRecord], estimates: Estimates | None = None) -> Structure:
        """The structure of these open tasks, carried forward from the last call when that is exact.

        `estimates` (learned from finished tasks) set the durations; without them the estimates
        are taken as given.
        """
        previous = self._last
        open_keys = frozenset(open_tasks)
        if previous is not None and _reusable(previous, open_tasks, open_keys):
            structure = previous if open_keys == previous.open_keys else previous.without(set(previous.open_keys - open_keys), open_keys)
            if structure.estimates is not estimates:
                self._builds += 1
                structure = _reweigh(structure, open_tasks, estimates, self.basics, self._builds)
        else:
            self._builds += 1
            structure = _build(open_tasks, open_keys, self.config, estimates, self.basics, self._builds)
        self._last = structure
        return structure


def analyse(open_tasks: Mapping[str, TaskRecord], config: PriorityConfig, estimates: Estimates | None = None) -> Structure:
    """The structure of these open tasks, computed afresh."""
    return Analyser(config).analyse(open_tasks, estimates)


def _durations(
    open_tasks: Mapping[str, TaskRecord], config: PriorityConfig, estimates: Estimates | None, basics: BasicsOf,
) -> tuple[dict[str, float], dict[str, Learned]]:
    """Each open task's duration in minutes, and the learned figure it came from when there are estimates."""
    if estimates is None:
        return {key: basics(task.issue)[2] or config.default_estimate_min for key, task in open_tasks.items()}, {}
    learned: dict[str, Learned] = {}
    by_kind: dict[tuple[str, float | None], Learned] = {}
    for key, task in open_tasks.items():
        _, level, estimate = basics(task.issue)
        found = by_kind.get((level, estimate))
        if found is None:
            found = by_kind[(level, estimate)] = estimates.duration(level, estimate)
        learned[key] = found
    return {key: item.minutes for key, item in learned.items()}, learned


def _tails(order: tuple[str, ...], children: Mapping[str, tuple[str, ...]], durations: Mapping[str, float]) -> dict[str, float]:
    """For each task in `durations` and `order`, the longest chain of work that waits on it."""
    tail: dict[str, float] = {}
    for node in reversed(order):
        if node in durations:
            tail[node] = max((durations[child] + tail[child] for child in children[node] if child in durations), default=0.0)
    return tail


def _reweigh(
    structure: Structure, open_tasks: Mapping[str, TaskRecord], estimates: Estimates | None, basics: BasicsOf, build: int,
) -> Structure:
    """The same graph with durations from new estimates: tails, chains and total work recomputed."""
    durations, learned = _durations(open_tasks, structure.config, estimates, basics)
    tail = _tails(structure.order, structure.children, durations)
    order = tuple(key for key in structure.order if key in structure.open_keys)
    urgent, urgent_order = _urgent(order, structure.children, durations, structure.levels, structure.config.first_level)
    return replace(
        structure, estimates=estimates, learned=learned, durations=durations, tail=tail, total_work=sum(durations.values()),
        urgent=urgent, urgent_order=urgent_order,
        by_chain=tuple(sorted(durations, key=lambda key: (-(durations[key] + tail.get(key, 0.0)), key))),
        by_tail=tuple(sorted(tail, key=lambda key: (-tail[key], key))), build=build, chain_at=0, tail_at=0,
    )


def _reusable(previous: Structure, open_tasks: Mapping[str, TaskRecord], open_keys: frozenset[str]) -> bool:
    if not open_keys <= previous.open_keys:
        return False
    issues = previous.issues
    # map, not a generator: this runs over every open task on every plan
    if not all(map(is_, map(issues.get, open_tasks), map(_ISSUE_OF, open_tasks.values()))):
        return False
    # A removed task that something still open waited on would change that task's tail.
    return not any(dep in open_keys for key in previous.open_keys - open_keys for dep in previous.deps[key])


def _build(
    open_tasks: Mapping[str, TaskRecord], open_keys: frozenset[str], config: PriorityConfig, estimates: Estimates | None,
    basics_of: BasicsOf, build: int,
) -> Structure:
    deps = {key: task.deps for key, task in open_tasks.items()}
    graph = build_graph(deps)
    cycles = tuple(find_cycles(graph))
    in_cycle = cycle_members(graph, cycles)
    basics = {key: basics_of(task.issue) for key, task in open_tasks.items()}
    levels = {key: level for key, (_, level, _) in basics.items()}
    durations, learned = _durations(open_tasks, config, estimates, basics_of)
    cyclic = {key for component in nx.strongly_connected_components(graph) if len(component) > 1 for key in component}
    acyclic = graph.subgraph(key for key in graph if key not in cyclic)
    order = tuple(nx.topological_sort(acyclic))
    children = {node: tuple(acyclic.successors(node)) for node in order}
    tail = _tails(order, children, durations)
    by_chain = tuple(sorted(open_tasks, key=lambda key: (-(durations[key] + tail.get(key, 0.0)), key)))
    by_tail = tuple(sorted(tail, key=lambda key: (-tail[key], key)))
    urgent, urgent_order = _urgent(order, children, durations, levels, config.first_level)
    return Structure(
        config=config, issues={key: task.issue for key, task in open_tasks.items()}, deps=deps, open_keys=open_keys,
        durations=durations, tail=tail, out_degree=dict(graph.out_degree()),
        inherited=_inherited(order, children, basics), cycles=cycles, in_cycle=in_cycle,
        total_work=sum(durations.values()), by_chain=by_chain, by_tail=by_tail,
        order=order, children=children, levels=levels, urgent=urgent, urgent_order=urgent_order,
        estimates=estimates, learned=learned, build=build,
    )


def _urgent(
    order: tuple[str, ...], children: Mapping[str, tuple[str, ...]], durations: Mapping[str, float],
    levels: Mapping[str, str], level: str,
) -> tuple[dict[str, Urgent], tuple[str, ...]]:
    """For each task of `level` and each task one of them waits on, the one it leads to that can
    be done soonest; and those tasks in topological order.

    How soon a P0 can be done is the longest chain of open work ending at it (its own duration
    once it is ready); a task several P0s wait on is work for the soonest (ties: lowest key).
    `order` lists the open tasks outside cycles, dependencies first (it may be limited to
    those the last computation found: nothing else leads to a P0).
    """
    if not level:
        return {}, ()
    head: dict[str, float] = {}
    for node in order:
        head[node] = done = head.get(node, 0.0) + durations.get(node, 0.0)
        for child in children[node]:
            if done > head.get(child, 0.0):
                head[child] = done
    best: dict[str, Urgent] = {}
    for node in reversed(order):
        if levels.get(node) == level:
            # nothing downstream of a P0 can be done before it
            best[node] = Urgent(head[node], node)
            continue
        found: Urgent | None = None
        for child in children[node]:
            via = best.get(child)
            if via is not None and (found is None or (via.minutes, _rank(via.issue)) < (found.minutes, _rank(found.issue))):
                found = via
        if found is not None:
            best[node] = found
    return best, tuple(node for node in order if node in best)


def _inherited(
    order: tuple[str, ...], children: Mapping[str, tuple[str, ...]], basics: Mapping[str, tuple[float, str, float | None]],
) -> dict[str, Inherited]:
    """For each task, the most important task that waits on it, directly or not (ties: lowest key)."""
    best: dict[str, Inherited] = {}
    for node in reversed(order):
        found: Inherited | None = None
        for child in children[node]:
            weight, level, _ = basics[child]
            for candidate in (Inherited(weight, level, child), best.get(child)):
                if candidate is not None and (found is None or (candidate.weight, _rank(found.issue)) > (found.weight, _rank(candidate.issue))):
                    found = candidate
        if found is not None:
            best[node] = found
    return best


def _rank(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)
