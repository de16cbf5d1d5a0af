"""kill -9 at seeded random points of a run with dependencies, a restart after each: nothing lost, nothing twice.

What is promised (engine/sessions.py `reconcile` and `finish`): a session whose agent still runs
after the orchestrator died is reattached and collected once; one that ended meanwhile is
collected; one whose agent died with it (a power cut) is a crashed attempt, retried; one lost
before its agent started is started again without using up an attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.helpers import git
from tests.faults.checks import checkout_untouched, judge_local_run, read_ledger, read_store
from tests.faults.conftest import FaultTally, replay_hint
from tests.faults.harness import AGENT, Bench, running, wait_until
from waterspider_tui.core import events as ev

ROUNDS = 5
"""Kills per test, fewer when the run ends first. The agents take 0.5 to 2 s (`slow`), so that
most kills find some at work and many outlive an orchestrator killed alone."""
TIMED_SHARE = 0.3
"""A share of the kills land at a time drawn from start-up onwards; the rest a moment after the
n-th new line of the round in the agents' ledger: mostly an agent starting (so that it has most
of its work ahead when the kill lands), else any line (a finish, so the kill lands while the
orchestrator collects it)."""


@dataclass(frozen=True)
class KillPoint:
    after_s: float = 0.0
    """Seconds after the start (a timed kill), or after the ledger line below."""
    lines: int = 0
    """New ledger lines to wait for (0: a timed kill)."""
    kind: str = "start"
    """Which lines count: `start`, or `any`."""

    def describe(self, how: str, mid_run: int) -> str:
        when = f"{self.after_s:.1f}s after the start" if not self.lines else f"{self.after_s:.2f}s after {self.kind} line {self.lines}"
        return f"{how} {when} ({mid_run} agents mid-run)"


def kill_point(rng: random.Random) -> KillPoint:
    if rng.random() < TIMED_SHARE:
        return KillPoint(rng.uniform(0.2, 2.0))
    return KillPoint(rng.uniform(0.0, 0.3), rng.randint(1, 3), rng.choice(("start", "start", "any")))


def new_lines(bench: Bench, before: int, kind: str) -> int:
    return sum(1 for line in read_ledger(bench.ledger)[before:] if kind == "any" or line["event"] == kind)


def kill_rounds(bench: Bench, rng: random.Random, kinds: tuple[str, ...], rounds: int = ROUNDS) -> tuple[list[str], set[int]]:
    """Start, kill at a random moment, start again...; the points hit and the pids killed."""
    points: list[str] = []
    killed: set[int] = set()
    for round_number in range(rounds):
        before = len(read_ledger(bench.ledger))
        orchestrator = bench.start(name=f"round-{round_number}")
        point = kill_point(rng)
        if point.lines:
            wait_until(lambda: not orchestrator.alive() or new_lines(bench, before, point.kind) >= point.lines, 15.0)
        if wait_until(lambda: not orchestrator.alive(), point.after_s):
            break  # it finished before the kill
        how = rng.choice(kinds)
        mid_run = sum(1 for line in read_ledger(bench.ledger) if line["event"] == "start" and running(line["pid"], AGENT.name.encode()))
        killed |= set(orchestrator.kill(how, marker=str(bench.root)))
        points.append(point.describe(how, mid_run))
    return points, killed


def verify(bench: Bench, tally: FaultTally, points: list[str], killed: set[int], label: str) -> None:
    """A last run to the end, then every promise checked on the store, the ledger and the repository."""
    final = bench.run()
    verdict = judge_local_run(bench.store, bench.ledger, bench.dependencies, bench.issues, killed)
    events, snapshot = read_store(bench.store)
    reattached = sum(1 for e in events if isinstance(e, ev.SessionSpawned) and e.reattached)
    tally.crash_points += len(points)
    tally.duplicates += verdict.duplicates
    tally.lost += verdict.lost
    tally.cut_off += verdict.cut_off
    tally.notes.append(f"{label}: {len(points)} kills, {reattached} sessions reattached, {verdict.cut_off} completions cut off")
    context = f"{label}, kills: {points}; {replay_hint(tally)}"
    assert final.returncode == 0, f"{context}\n{final.stderr[-2000:]}"
    assert not verdict.problems, f"{context}\n" + "\n".join(verdict.problems)
    assert not checkout_untouched(bench.repo, bench.head), context
    for number in range(1, bench.issues + 1):
        task = snapshot.tasks[f"local#{number}"]
        assert task.session is not None
        tree = git(bench.repo, "ls-tree", "--name-only", f"feature/issue-{number}")
        assert f"issue-{number}-attempt-{task.session.attempt}.txt" in tree, f"#{number}: the succeeded attempt's commit is not on its branch; {context}"


def test_kill_9_of_the_orchestrator_at_many_points(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    """Its agents go on, detached: each is reattached (or collected) and none runs twice."""
    bench = Bench(tmp_path, fault_seed, issues=9, mode="slow")
    points, killed = kill_rounds(bench, random.Random(fault_seed), ("pid",), rounds=ROUNDS - 1)
    verify(bench, fault_tally, points, killed, "kill -9 of the orchestrator")
    events, _ = read_store(bench.store)
    crashed = [e for e in events if isinstance(e, ev.SessionFinished) and e.result.error_class is not None and e.result.error_class.value == "crashed"]
    assert not crashed, f"an agent that outlived the orchestrator was taken for crashed: {[e.result.error for e in crashed]}"


def test_kill_9_of_the_process_group_and_of_the_whole_run(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    """Its group (git mid-checkout dies too), or every process of the run: crashed attempts are retried, never doubled."""
    bench = Bench(tmp_path, fault_seed, issues=8, mode="slow")
    points, killed = kill_rounds(bench, random.Random(fault_seed), ("group", "power", "power"))
    verify(bench, fault_tally, points, killed, "kill -9 of the process group / the whole run")
