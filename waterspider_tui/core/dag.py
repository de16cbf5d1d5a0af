"""Dependency references parsed from issue text, the task graph, cycles and a text layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import networkx as nx

_REF = r"(?:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#(?P<num>\d+)|https?://[^\s/]+/(?P<urlrepo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/issues/(?P<urlnum>\d+))"
_SINGLE_REF = re.compile(_REF)
_BARE_REF = r"(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#\d+|https?://[^\s/]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/issues/\d+"
_KEYWORD_LIST = re.compile(
    r"\b(?:depends\s+on|depend\s+on|dependent\s+on|blocked\s+by|after|requires|needs|waits?\s+(?:on|for))"
    r"\s*:?\s*(?P<refs>(?:" + _BARE_REF + r")(?:\s*(?:,\s*(?:and|&)?|and|&|\+)?\s*(?:" + _BARE_REF + r"))*)",
    re.IGNORECASE,
)
_TASK_ITEM = re.compile(r"^\s*[-*+]\s+\[[ xX]\]\s+" + _REF)
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")


def _prose_lines(body: str) -> Iterable[str]:
    """The body's lines outside fenced code and block quotes, with inline code removed."""
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or line.lstrip().startswith(">"):
            continue
        yield _INLINE_CODE.sub("", line)


def _ref_key(match: re.Match[str], repo: str) -> str:
    if match.group("urlnum"):
        return f"{match.group('urlrepo')}#{match.group('urlnum')}"
    return f"{match.group('repo') or repo}#{match.group('num')}"


def parse_references(body: str, repo: str) -> tuple[str, ...]:
    """Issue keys a body says it waits on ("depends on #12", "blocked by o/r#7", "- [ ] #3").

    Case-insensitive; code blocks, inline code and quotes are ignored, so an example in a
    code block never creates an edge.
    """
    found: dict[str, None] = {}
    for line in _prose_lines(body or ""):
        task_item = _TASK_ITEM.match(line)
        if task_item:
            found[_ref_key(task_item, repo)] = None
        for keyword in _KEYWORD_LIST.finditer(line):
            for ref in _SINGLE_REF.finditer(keyword.group("refs")):
                found[_ref_key(ref, repo)] = None
    return tuple(found)


def build_graph(deps_by_task: Mapping[str, Iterable[str]]) -> nx.DiGraph:
    """Edges point from a dependency to the task that waits on it; unknown keys are left out."""
    graph = nx.DiGraph()
    graph.add_nodes_from(deps_by_task)
    for task, deps in deps_by_task.items():
        for dep in deps:
            if dep in deps_by_task:
                graph.add_edge(dep, task)
    return graph


def find_cycles(graph: nx.DiGraph) -> list[tuple[str, ...]]:
    """One cycle (in order) for each group of tasks that wait on each other; never hangs.

    Strongly connected components are linear in the graph's size, unlike enumerating every
    simple cycle, which can be exponential. Each cycle starts at its lowest issue number and
    is searched in a fixed order, so the answer does not depend on set or hash order.
    """
    cycles: list[tuple[str, ...]] = []
    for component in _cyclic_components(graph):
        members = sorted(component, key=_sort_key)
        sub = nx.DiGraph()
        sub.add_nodes_from(members)
        sub.add_edges_from(
            (node, child) for node in members
            for child in sorted(graph.successors(node), key=_sort_key) if child in component
        )
        cycle = [edge[0] for edge in nx.find_cycle(sub, source=members[0])]
        start = cycle.index(min(cycle, key=_sort_key))
        cycles.append(tuple(cycle[start:] + cycle[:start]))
    cycles.sort(key=lambda cycle: [_sort_key(member) for member in cycle])
    return cycles


def _cyclic_components(graph: nx.DiGraph) -> list[set[str]]:
    """The strongly connected components that hold a cycle (several nodes, or a self-loop)."""
    return [
        component for component in nx.strongly_connected_components(graph)
        if len(component) > 1 or graph.has_edge(next(iter(component)), next(iter(component)))
    ]


def _without_cycles(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph minus every node that sits on a cycle, so a topological order exists.

    Removing only the one reported cycle per component is not enough: a component can hold
    several cycles.
    """
    acyclic = graph.copy()
    for component in _cyclic_components(graph):
        acyclic.remove_nodes_from(component)
    return acyclic


def cycle_members(graph: nx.DiGraph, cycles: Iterable[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Every task caught in a tangle of dependencies, with the cycle reported for its tangle.

    A component may hold several cycles; all of its tasks wait forever, so all are held as
    `cycle`, not only those on the one cycle named.
    """
    members: dict[str, tuple[str, ...]] = {}
    by_member = {member: cycle for cycle in cycles for member in cycle}
    for component in _cyclic_components(graph):
        named = next((by_member[node] for node in component if node in by_member), ())
        for node in component:
            members[node] = by_member.get(node, named)
    return members


def downstream_work(graph: nx.DiGraph, durations: Mapping[str, float]) -> dict[str, float]:
    """For each task, the longest chain of work that waits on it (itself excluded).

    This is how much finishing the task early can shorten the whole run: its tail on the
    critical path. Computed in one pass over a topological order; cycles count as zero.
    """
    if not nx.is_directed_acyclic_graph(graph):
        graph = _without_cycles(graph)
    tail: dict[str, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        best = 0.0
        for child in graph.successors(node):
            best = max(best, durations.get(child, 0.0) + tail.get(child, 0.0))
        tail[node] = best
    return tail


def critical_path(graph: nx.DiGraph, durations: Mapping[str, float]) -> list[str]:
    """The chain of tasks with the most work in it, first to last."""
    if graph.number_of_nodes() == 0 or not nx.is_directed_acyclic_graph(graph):
        return []
    return _longest(graph, durations)


def _longest(graph: nx.DiGraph, durations: Mapping[str, float]) -> list[str]:
    best: dict[str, tuple[float, str | None]] = {}
    for node in nx.topological_sort(graph):
        preds = [(best[p][0], p) for p in graph.predecessors(node)]
        length, parent = max(preds, default=(0.0, None))
        best[node] = (length + durations.get(node, 0.0), parent)
    if not best:
        return []
    node: str | None = max(best, key=lambda key: best[key][0])
    path: list[str] = []
    while node is not None:
        path.append(node)
        node = best[node][1]
    return path[::-1]


@dataclass(frozen=True)
class DagLayout:
    """Tasks in layers by depth (a task sits one layer right of its deepest dependency)."""

    layers: tuple[tuple[str, ...], ...]
    edges: tuple[tuple[str, str], ...]
    critical: tuple[str, ...]
    cycles: tuple[tuple[str, ...], ...]


def layout(graph: nx.DiGraph, durations: Mapping[str, float], focus: str | None = None, max_nodes: int = 60) -> DagLayout:
    """A text-friendly layout; with a large graph only the focus's ancestors and descendants."""
    if focus is not None and focus in graph and graph.number_of_nodes() > max_nodes:
        keep = {focus} | nx.ancestors(graph, focus) | nx.descendants(graph, focus)
        graph = graph.subgraph(keep).copy()
    cycles = find_cycles(graph)
    acyclic = _without_cycles(graph)
    depth: dict[str, int] = {}
    for node in nx.topological_sort(acyclic):
        depth[node] = max((depth[p] + 1 for p in acyclic.predecessors(node)), default=0)
    layers: dict[int, list[str]] = {}
    for node, level in depth.items():
        layers.setdefault(level, []).append(node)
    ordered = tuple(tuple(sorted(layers[level], key=_natural)) for level in sorted(layers))
    return DagLayout(
        layers=ordered,
        edges=tuple(sorted(graph.edges())),
        critical=tuple(critical_path(acyclic, durations)),
        cycles=tuple(cycles),
    )


def _natural(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)


def _sort_key(key: str) -> tuple[str, int, str]:
    return (*_natural(key), key)
