"""Agents that hang, print garbage, leave grandchildren behind (one in a session of its own) or die by a
signal, in one run through the real command: each gets its outcome, nothing of theirs outlives the run,
and the well-behaved issue beside them (waiting on the garbage printer) still succeeds.

Retries of stalled and crashed sessions are the engine tests' subject (tests/engine); here each
misbehaviour gets one attempt, so the run stays short.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.checks import checkout_untouched, read_ledger, read_store
from tests.faults.conftest import FaultTally
from tests.faults.harness import Bench, running
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState

FAULTS = {
    1: ["fault:stubborn", "fault:setsid", "fault:hang"],
    2: ["fault:garbage"],
    3: ["fault:stubborn"],
    4: ["fault:setsid"],
    5: ["fault:signal"],
}
STALL_S = 3.0
"""Short, so the hanging agent is stopped quickly; the engine waits out the runner's clean-up of an
exited agent's leftovers before it calls silence a stall (see the test below)."""
GRANDCHILD_MARK = b"SIG_IGN"
"""In a leftover grandchild's command line (fault_agent.GRANDCHILD), so a reused pid is not taken for it."""


def test_hanging_garbage_printing_child_leaving_and_signalled_agents(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    bench = Bench(tmp_path, fault_seed, issues=6, capacity=6, mode="labels", deps={6: [2]}, labels=FAULTS,
                  sessions={"stall_timeout_s": STALL_S, "max_attempts": 1})
    result = bench.run("--no-ui")
    fault_tally.faults += sum(len(labels) for labels in FAULTS.values())

    assert result.returncode == 1, f"two issues failed, so the run says so\n{result.stderr[-2000:]}"
    raw = (tmp_path / "final.out").read_bytes() + (tmp_path / "final.err").read_bytes()
    raw.decode("utf-8")  # what reached the terminal is text, whatever the agents printed
    assert b"\x1b" not in raw and b"\x00" not in raw and b"\x07" not in raw, "an agent's control bytes reached the terminal"
    assert max(len(line) for line in raw.splitlines()) < 4000, "a 3 MB line reached the terminal whole"

    events, snapshot = read_store(bench.store)
    state = {number: snapshot.tasks[f"local#{number}"] for number in range(1, 7)}
    finished = {number: [e.result for e in events if isinstance(e, ev.SessionFinished) and e.issue == f"local#{number}"] for number in state}
    assert [r.error_class.value if r.error_class else None for r in finished[1]] == ["stalled"], finished[1]
    assert state[1].state is TaskState.FAILED
    assert [r.error_class.value if r.error_class else None for r in finished[5]] == ["crashed"], finished[5]
    assert "SIGSEGV" in finished[5][-1].error, finished[5][-1].error
    for number in (2, 3, 4, 6):
        assert state[number].state is TaskState.SUCCEEDED and len(finished[number]) == 1, (number, finished[number])
    starts = [line for line in read_ledger(bench.ledger) if line["event"] == "start"]
    six = next(line for line in starts if line["issue"] == 6)
    two = next(line for line in read_ledger(bench.ledger) if line["issue"] == 2 and line["event"] == "finish")
    assert six["t"] > two["t"], "#6 started before the garbage printer it waits on finished"

    leftovers = {
        f"#{number} {path.name} {pid}": int(pid)
        for number in (1, 3, 4)
        for path in (bench.store.parent / "sessions").glob(f"local-{number}/attempt-*/leftovers.*")
        for pid in path.read_text().split()
    }
    assert len(leftovers) == 4, f"every grandchild recorded its pid: {sorted(leftovers)}"
    alive = [name for name, pid in leftovers.items() if running(pid, GRANDCHILD_MARK)]
    assert not alive, f"grandchildren outlived their sessions: {alive}"
    assert not checkout_untouched(bench.repo, bench.head)


def test_an_agent_that_finished_is_not_stalled_by_the_clean_up_of_its_leftovers(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    bench = Bench(tmp_path, fault_seed, issues=1, mode="labels", labels={1: ["fault:stubborn"]},
                  sessions={"stall_timeout_s": 1.5, "max_attempts": 1})
    result = bench.run("--no-ui")
    fault_tally.faults += 1
    finishes = [line for line in read_ledger(bench.ledger) if line["event"] == "finish"]
    assert result.returncode == 0 and len(finishes) == 1, f"the agent completed {len(finishes)} time(s) and the run says\n{result.stdout[-1500:]}"
