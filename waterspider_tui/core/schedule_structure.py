"""The open task graph's figures the scheduler ranks by, cached and carried forward as tasks finish.

`plan()` runs after every stored event; rebuilding the graph each time made it linear in the
backlog with a large constant (networkx), so a run was quadratic. A `Structure` is computed
once for a set of open tasks and reused while that set only loses tasks that nothing open
waited on (the usual case: a task finishes, its dependencies were done before it started).
Removing such tasks changes no other task's tail, inheritance, out-degree or cycle, so the
reuse is exact; anything else (a new or edited issue, a requeue) rebuilds from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import networkx as nx

from waterspider_tui.core.dag import build_graph, cycle_members, downstream_work, find_cycles
from waterspider_tui.core.models import Issue
from waterspider_tui.core.priority import Inherited, PriorityConfig, estimate_minutes, label_weight
from waterspider_tui.core.state import TaskRecord

_BASICS: dict[int, tuple[Issue, PriorityConfig, float, str, float | None]] = {}
_BASICS_KEPT = 200_000


def issue_basics(issue: Issue, config: PriorityConfig) -> tuple[float, str, float | None]:
    """The issue's label weight, level and estimate, read once per issue object (regexes are slow)."""
    cached = _BASICS.get(id(issue))
    if cached is not None and cached[0] is issue and cached[1] is config:
        return cached[2], cached[3], cached[4]
    weight, level = label_weight(issue.labels, config)
    estimate = estimate_minutes(issue)
    if len(_BASICS) >= _BASICS_KEPT:
        _BASICS.clear()
    _BASICS[id(issue)] = (issue, config, weight, level, estimate)
    return weight, level, estimate


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

    def remaining_lower_bound(self, capacity: int, done_min: float = 0.0) -> float:
        """No schedule of the open work can end sooner than this (on the estimates).

        `done_min` is the work running sessions have already put in.
        """
        longest = self.chain(self.by_chain[self.chain_at]) if self.chain_at < len(self.by_chain) else 0.0
        return max(longest, (self.total_work - done_min) / max(capacity, 1))

    def without(self, removed: set[str], open_keys: frozenset[str]) -> Structure:
        return replace(
            self, open_keys=open_keys, total_work=self.total_work - sum(self.durations[key] for key in removed),
            chain_at=_first_open(self.by_chain, self.chain_at, open_keys),
            tail_at=_first_open(self.by_tail, self.tail_at, open_keys),
        )


def _first_open(keys: tuple[str, ...], start: int, open_keys: frozenset[str]) -> int:
    while start < len(keys) and keys[start] not in open_keys:
        start += 1
    return start


_last: Structure | None = None
_builds = 0
_configs: list[PriorityConfig] = []


def canonical(config: PriorityConfig) -> PriorityConfig:
    """One instance per distinct config, so caches keyed by identity hit for equal configs too."""
    for known in _configs:
        if known is config or known == config:
            return known
    if len(_configs) >= 16:
        _configs.pop(0)
    _configs.append(config)
    return config


def analyse(open_tasks: Mapping[str, TaskRecord], config: PriorityConfig) -> Structure:
    """The structure of these open tasks, carried forward from the last call when that is exact."""
    global _last
    previous = _last
    open_keys = frozenset(open_tasks)
    if previous is not None and _reusable(previous, open_tasks, open_keys, config):
        structure = previous if open_keys == previous.open_keys else previous.without(set(previous.open_keys - open_keys), open_keys)
    else:
        structure = _build(open_tasks, open_keys, config)
    _last = structure
    return structure


def _reusable(previous: Structure, open_tasks: Mapping[str, TaskRecord], open_keys: frozenset[str], config: PriorityConfig) -> bool:
    if previous.config is not config or not open_keys <= previous.open_keys:
        return False
    issues = previous.issues
    if any(issues.get(key) is not task.issue for key, task in open_tasks.items()):
        return False
    # A removed task that something still open waited on would change that task's tail.
    return not any(dep in open_keys for key in previous.open_keys - open_keys for dep in previous.deps[key])


def _build(open_tasks: Mapping[str, TaskRecord], open_keys: frozenset[str], config: PriorityConfig) -> Structure:
    global _builds
    _builds += 1
    deps = {key: task.deps for key, task in open_tasks.items()}
    graph = build_graph(deps)
    cycles = tuple(find_cycles(graph))
    in_cycle = cycle_members(graph, cycles)
    basics = {key: issue_basics(task.issue, config) for key, task in open_tasks.items()}
    durations = {key: basics[key][2] or config.default_estimate_min for key in open_tasks}
    tail = downstream_work(graph, durations)
    cyclic = {key for component in nx.strongly_connected_components(graph) if len(component) > 1 for key in component}
    acyclic = graph.subgraph(key for key in graph if key not in cyclic)
    by_chain = tuple(sorted(open_tasks, key=lambda key: (-(durations[key] + tail.get(key, 0.0)), key)))
    by_tail = tuple(sorted(tail, key=lambda key: (-tail[key], key)))
    return Structure(
        config=config, issues={key: task.issue for key, task in open_tasks.items()}, deps=deps, open_keys=open_keys,
        durations=durations, tail=tail, out_degree=dict(graph.out_degree()),
        inherited=_inherited(acyclic, basics), cycles=cycles, in_cycle=in_cycle,
        total_work=sum(durations.values()), by_chain=by_chain, by_tail=by_tail, build=_builds,
    )


def _inherited(acyclic: nx.DiGraph, basics: Mapping[str, tuple[float, str, float | None]]) -> dict[str, Inherited]:
    """For each task, the most important task that waits on it, directly or not (ties: lowest key)."""
    best: dict[str, Inherited] = {}
    for node in reversed(list(nx.topological_sort(acyclic))):
        found: Inherited | None = None
        for child in acyclic.successors(node):
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
