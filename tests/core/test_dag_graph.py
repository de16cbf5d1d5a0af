"""The task graph: edges, cycles, downstream work, the critical path and the layout."""

from __future__ import annotations

import os
import subprocess
import sys

from waterspider_tui.core.dag import build_graph, cycle_members, critical_path, downstream_work, find_cycles, layout

# A hand-checked DAG (edges point from a dependency to the task waiting on it):
#   #1 ──▶ #2 ──▶ #4
#    │            ▲
#    └───▶ #3 ────┘
#           └───▶ #5
DEPS = {"#1": [], "#2": ["#1"], "#3": ["#1"], "#4": ["#2", "#3"], "#5": ["#3"]}
DURATIONS = {"#1": 10.0, "#2": 20.0, "#3": 30.0, "#4": 5.0, "#5": 40.0}


def test_build_graph_points_from_dependency_to_dependant_and_drops_unknown_keys() -> None:
    graph = build_graph({"a": ["b", "nobody"], "b": [], "c": []})
    assert sorted(graph.edges()) == [("b", "a")]
    assert sorted(graph.nodes()) == ["a", "b", "c"]


def test_downstream_work_on_a_hand_checked_dag() -> None:
    tail = downstream_work(build_graph(DEPS), DURATIONS)
    assert tail == {"#1": 70.0, "#2": 5.0, "#3": 40.0, "#4": 0.0, "#5": 0.0}


def test_downstream_work_treats_missing_durations_as_zero() -> None:
    tail = downstream_work(build_graph(DEPS), {"#5": 40.0})
    assert tail == {"#1": 40.0, "#2": 0.0, "#3": 40.0, "#4": 0.0, "#5": 0.0}


def test_critical_path_on_a_hand_checked_dag() -> None:
    assert critical_path(build_graph(DEPS), DURATIONS) == ["#1", "#3", "#5"]
    # make the other branch heavier and the path moves
    heavier = {**DURATIONS, "#4": 100.0}
    assert critical_path(build_graph(DEPS), heavier) == ["#1", "#3", "#4"]


def test_critical_path_of_an_empty_or_cyclic_graph_is_empty() -> None:
    assert critical_path(build_graph({}), {}) == []
    assert critical_path(build_graph({"a": ["b"], "b": ["a"]}), {"a": 1, "b": 1}) == []


def test_layout_layers_by_depth() -> None:
    result = layout(build_graph(DEPS), DURATIONS)
    assert result.layers == (("#1",), ("#2", "#3"), ("#4", "#5"))
    assert result.critical == ("#1", "#3", "#5")
    assert result.cycles == ()
    assert result.edges == (("#1", "#2"), ("#1", "#3"), ("#2", "#4"), ("#3", "#4"), ("#3", "#5"))


def test_layout_sorts_a_layer_by_issue_number_not_text() -> None:
    deps = {"o/r#10": [], "o/r#9": [], "o/r#2": []}
    assert layout(build_graph(deps), {}).layers == (("o/r#2", "o/r#9", "o/r#10"),)


def test_layout_puts_a_task_right_of_its_deepest_dependency() -> None:
    deps = {"a#1": [], "a#2": ["a#1"], "a#3": ["a#2"], "a#4": ["a#1", "a#3"]}
    assert layout(build_graph(deps), {}).layers == (("a#1",), ("a#2",), ("a#3",), ("a#4",))


def test_layout_of_a_large_graph_keeps_only_the_focus_lineage() -> None:
    deps = {**DEPS, **{f"#{n}": [] for n in range(10, 20)}}
    result = layout(build_graph(deps), DURATIONS, focus="#2", max_nodes=5)
    assert result.layers == (("#1",), ("#2",), ("#4",))
    # small graphs are shown whole even with a focus
    assert len(sum(layout(build_graph(DEPS), DURATIONS, focus="#2").layers, ())) == 5


def test_layout_leaves_cycle_members_out_of_the_layers() -> None:
    deps = {"#1": [], "#2": ["#3"], "#3": ["#2"], "#4": ["#1"]}
    result = layout(build_graph(deps), {})
    assert result.layers == (("#1",), ("#4",))
    assert result.cycles == (("#2", "#3"),)


def test_two_cycle() -> None:
    cycles = find_cycles(build_graph({"#1": ["#2"], "#2": ["#1"], "#3": ["#1"]}))
    assert cycles == [("#1", "#2")]


def test_three_cycle_in_dependency_order() -> None:
    # #2 waits on #1, #3 waits on #2, #1 waits on #3: edges #1→#2→#3→#1
    cycles = find_cycles(build_graph({"#1": ["#3"], "#2": ["#1"], "#3": ["#2"], "#4": []}))
    assert cycles == [("#1", "#2", "#3")]


def test_self_loop() -> None:
    assert find_cycles(build_graph({"#1": ["#1"], "#2": ["#1"]})) == [("#1",)]


def test_no_cycles_in_a_dag() -> None:
    assert find_cycles(build_graph(DEPS)) == []


def test_separate_cycles_are_each_reported_starting_at_their_lowest_issue() -> None:
    deps = {f"o/r#{n}": [] for n in range(1, 13)}
    deps.update({"o/r#9": ["o/r#11"], "o/r#10": ["o/r#9"], "o/r#11": ["o/r#10"], "o/r#5": ["o/r#12"], "o/r#12": ["o/r#5"]})
    graph = build_graph(deps)
    cycles = find_cycles(graph)
    assert cycles == [("o/r#5", "o/r#12"), ("o/r#9", "o/r#10", "o/r#11")]
    members = cycle_members(graph, cycles)
    assert members["o/r#12"] == ("o/r#5", "o/r#12")
    assert set(members) == {"o/r#5", "o/r#12", "o/r#9", "o/r#10", "o/r#11"}


def test_every_task_of_a_tangle_is_held_as_a_cycle() -> None:
    """#1⇄#2 and #3⇄#4 joined by #2→#3 and #4→#1 form one tangle: all four wait forever."""
    deps = {"o/r#1": ["o/r#2", "o/r#4"], "o/r#2": ["o/r#1"], "o/r#3": ["o/r#2", "o/r#4"], "o/r#4": ["o/r#3"], "o/r#5": []}
    graph = build_graph(deps)
    members = cycle_members(graph, find_cycles(graph))
    assert set(members) == {"o/r#1", "o/r#2", "o/r#3", "o/r#4"}
    assert all(members[key] for key in members)


_TWO_CYCLES = """
deps = {f"local#{n}": [] for n in range(1, 30)}
deps.update({"local#5": ["local#7"], "local#7": ["local#6"], "local#6": ["local#5"]})
deps.update({"local#8": ["local#9"], "local#9": ["local#8"]})
"""


def test_cycles_do_not_depend_on_the_hash_seed() -> None:
    expected = [("local#5", "local#6", "local#7"), ("local#8", "local#9")]
    namespace: dict[str, dict[str, list[str]]] = {}
    exec(_TWO_CYCLES, namespace)
    assert find_cycles(build_graph(namespace["deps"])) == expected
    # this process runs with a random hash seed; seed 1 once gave ('local#7', 'local#5', 'local#6')
    script = "from waterspider_tui.core.dag import build_graph, find_cycles\n" + _TWO_CYCLES + "print(find_cycles(build_graph(deps)))"
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "1"},
    )
    assert other.stdout.strip() == str(expected)


def test_a_component_with_several_cycles_does_not_break_downstream_work_or_layout() -> None:
    # #1⇄#2 and #3⇄#4, joined #2→#3 and #4→#1: one component, two cycles; #5 waits on #4
    deps = {"#1": ["#2", "#4"], "#2": ["#1"], "#3": ["#2", "#4"], "#4": ["#3"], "#5": ["#4"], "#6": []}
    graph = build_graph(deps)
    cycles = find_cycles(graph)
    assert len(cycles) == 1 and set(cycles[0]) <= {"#1", "#2", "#3", "#4"} and cycles[0][0] == "#1"
    assert downstream_work(graph, {key: 10.0 for key in deps}) == {"#5": 0.0, "#6": 0.0}
    assert layout(graph, {}).layers == (("#5", "#6"),)


def test_large_graph_with_many_cycles_finishes() -> None:
    # 2,000 nodes: 400 rings of five with chords (many simple cycles in each ring),
    # every ring also waiting on the previous ring, plus a dense tangle where the
    # number of simple cycles is astronomically large.
    deps: dict[str, list[str]] = {}
    for ring in range(400):
        names = [f"r{ring}#{i}" for i in range(5)]
        for i, name in enumerate(names):
            deps[name] = [names[(i + 1) % 5], names[(i + 2) % 5]]
            if ring:
                deps[name].append(f"r{ring - 1}#{i}")
    graph = build_graph(deps)
    cycles = find_cycles(graph)
    assert len(cycles) == 400
    for cycle in cycles:
        ring = cycle[0].split("#")[0]
        assert all(member.startswith(ring + "#") for member in cycle)
        assert cycle[0] == min(cycle, key=lambda member: int(member.split("#")[1]))
    assert downstream_work(graph, {}) == {}

    tangle = {f"t#{i}": [f"t#{(i + 1) % 2000}", f"t#{(i + 7) % 2000}", f"t#{(i + 13) % 2000}"] for i in range(2000)}
    tangle_cycles = find_cycles(build_graph(tangle))
    assert len(tangle_cycles) == 1
    assert tangle_cycles[0][0] == min(tangle_cycles[0], key=lambda member: int(member.split("#")[1]))
    assert len(set(tangle_cycles[0])) == len(tangle_cycles[0]) >= 2
