"""Workspace and lock cases of issue 11, once each through the real command.

A checkout killed midway, a folder or a link where a worktree should be, and a second orchestrator
with another store on the same repository: each asserts the outcome and the one line the operator
is told. The emptied store is in test_issue_changes.py, after a finished run.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.adapters.workspace_repo import add_slow_file
from tests.e2e.helpers import clean_env, git
from tests.faults.checks import checkout_untouched, judge_local_run, read_ledger, read_store
from tests.faults.conftest import FaultTally
from tests.faults.harness import Bench, wait_until
from waterspider_tui.core.models import TaskState


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_checkout_killed_midway_is_rebuilt_before_the_agent_gets_it(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    """kill -9 of the process group while `git worktree add` is checking out: the next start checks it out
    again, so the agent's commit adds its file and deletes none of the repository's."""
    bench = Bench(tmp_path, fault_seed, issues=1)
    add_slow_file(bench.repo)
    bench.head = git(bench.repo, "rev-parse", "HEAD").strip()
    marker = tmp_path / "checkout-reached-m.txt"
    slow = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "filter.slow.smudge", "GIT_CONFIG_VALUE_0": f"touch '{marker}'; sleep 60; cat"}
    first = bench.start(name="killed", env=clean_env() | slow)
    assert wait_until(marker.exists, 30), (tmp_path / "killed.err").read_text()[-2000:]
    first.kill("group", marker=str(tmp_path))
    fault_tally.crash_points += 1
    assert (bench.repo / ".git" / "worktrees" / "issue-1" / "locked").read_text().strip() == "initializing", "the kill left no half-made worktree"
    result = bench.run()
    assert result.returncode == 0, result.stderr[-2000:]
    changes = git(bench.repo, "diff", "--name-status", "main", "feature/issue-1").split("\n")
    assert [line.split("\t")[0] for line in changes if line] == ["A"], f"the branch deletes files of the repository: {changes[:5]}"
    assert (bench.repo / ".worktrees" / "issue-1" / "z0.txt").exists()
    assert len([line for line in read_ledger(bench.ledger) if line["event"] == "finish"]) == 1
    assert not checkout_untouched(bench.repo, bench.head)


def test_a_folder_or_a_link_where_a_worktree_goes_is_refused_and_left_alone(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    bench = Bench(tmp_path, fault_seed, issues=3, deps={})
    worktrees = bench.repo / ".worktrees"
    (worktrees / "issue-1").mkdir(parents=True)
    (worktrees / "issue-1" / "notes.txt").write_text("the operator's notes\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not a worktree\n")
    os.symlink(elsewhere, worktrees / "issue-2")
    fault_tally.faults += 2
    result = bench.run("--no-ui")

    assert result.returncode == 1, result.stdout[-2000:]
    _, snapshot = read_store(bench.store)
    assert snapshot.tasks["local#3"].state is TaskState.SUCCEEDED
    failed = {line.split(" ", 2)[1]: line for line in result.stdout.splitlines() if " failed (workspace): " in line}
    assert set(failed) == {"#1", "#2"}, result.stdout[-2000:]
    assert f"{worktrees / 'issue-1'}" in failed["#1"] and "not" in failed["#1"], failed["#1"]
    assert "symbolic link" in failed["#2"] and str(elsewhere) in failed["#2"], failed["#2"]
    assert (worktrees / "issue-1" / "notes.txt").read_text() == "the operator's notes\n"
    assert sorted(path.name for path in (worktrees / "issue-1").iterdir()) == ["notes.txt"]
    assert sorted(path.name for path in elsewhere.iterdir()) == ["keep.txt"]
    assert {line["issue"] for line in read_ledger(bench.ledger)} == {3}, "an agent ran in a folder that is not a worktree"
    assert not checkout_untouched(bench.repo, bench.head)


def test_a_second_orchestrator_with_another_store_on_the_same_repository_is_refused(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    """#1's agent waits for the test, so the first orchestrator is surely still running when the second comes."""
    bench = Bench(tmp_path, fault_seed, issues=2, deps={}, mode="labels", labels={1: ["fault:wait"]})
    first = bench.start(name="first")
    assert wait_until(lambda: any(line["issue"] == 1 for line in read_ledger(bench.ledger)), 30), (tmp_path / "first.err").read_text()[-2000:]
    other_store = tmp_path / "other" / "state.db"
    second = bench.run("--store", str(other_store), name="second", timeout=60)
    fault_tally.faults += 1
    assert first.alive(), "the first orchestrator ended before the second came"
    Path(f"{bench.ledger}.go").touch()
    lines = error_lines(second.stderr)
    assert second.returncode == 2 and len(lines) == 1, second.stderr[-2000:]
    assert lines[0] == f"waterspider: another waterspider is running on the repository {bench.repo.resolve()}", lines[0]
    finished = first.wait()
    assert finished.returncode == 0, finished.stderr[-2000:]
    verdict = judge_local_run(bench.store, bench.ledger, bench.dependencies, bench.issues)
    assert not verdict.problems, verdict.problems
    assert not (other_store.parent / "sessions").exists(), "the refused orchestrator started sessions"
