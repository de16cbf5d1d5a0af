"""Issues and the store changed under the orchestrator, through the real command: an issue closed while its
agent works, a new file claiming the number of an issue with history, and the store emptied after a run."""

from __future__ import annotations

from pathlib import Path

from tests.faults.checks import read_ledger, read_store
from tests.faults.conftest import FaultTally
from tests.faults.harness import AGENT, Bench, running, wait_until
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState


def test_an_issue_closed_while_its_agent_works_is_stopped_and_never_run_again(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    bench = Bench(tmp_path, fault_seed, issues=2, deps={}, mode="labels", labels={1: ["fault:hang"]},
                  sessions={"on_issue_gone": "stop", "on_exit": "stop", "stall_timeout_s": 60})
    orchestrator = bench.start("--no-ui")
    assert wait_until(lambda: any(line["issue"] == 1 for line in read_ledger(bench.ledger)), 30), (tmp_path / "run.err").read_text()[-2000:]
    issue = bench.folder / "001.md"
    issue.write_text(issue.read_text().replace("---\n", "---\nstate: closed\n", 1))
    fault_tally.faults += 1
    result = orchestrator.wait()

    assert result.returncode == 0, f"a closed issue counts as done\n{result.stdout[-2000:]}"
    events, snapshot = read_store(bench.store)
    assert snapshot.tasks["local#1"].state is TaskState.GONE and snapshot.tasks["local#2"].state is TaskState.SUCCEEDED
    finished = [e.result for e in events if isinstance(e, ev.SessionFinished) and e.issue == "local#1"]
    assert [r.outcome.value for r in finished] == ["cancelled"], finished
    assert not [e for e in events if isinstance(e, ev.RetryScheduled) and e.issue == "local#1"], "the closed issue was requeued"
    starts = [line for line in read_ledger(bench.ledger) if line["issue"] == 1]
    assert len(starts) == 1 and not running(starts[0]["pid"], AGENT.name.encode()), "its agent still runs, or ran again"
    assert "#1" in result.stdout and "closed" in result.stdout


def test_a_file_claiming_a_taken_number_then_an_emptied_store_are_refused_and_nothing_runs_again(tmp_path: Path, fault_seed: int, fault_tally: FaultTally) -> None:
    """After a finished run: a new file with the number of an issue that has history is skipped in one
    line (the first file keeps its number), then an emptied store is refused in one line (exit 2)."""
    bench = Bench(tmp_path, fault_seed, issues=2, deps={})
    assert bench.run().returncode == 0
    ledger_before = read_ledger(bench.ledger)
    (bench.folder / "050-claim.md").write_text("---\nnumber: 1\ntitle: Impostor\n---\nRedo issue 1 my way.\n")
    fault_tally.faults += 1
    result = bench.run("--no-ui", name="claimed")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "skipped: 050-claim.md: number 1 is already used by 001.md" in result.stdout, result.stdout[-2000:]
    _, snapshot = read_store(bench.store)
    assert snapshot.tasks["local#1"].issue.title == "Fault issue 1"
    assert snapshot.tasks["local#1"].state is TaskState.SUCCEEDED
    assert read_ledger(bench.ledger) == ledger_before, "an agent ran for the newcomer"

    bench.store.write_bytes(b"")
    fault_tally.faults += 1
    result = bench.run(name="emptied")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"waterspider: {bench.store} is empty but a store was here ("), lines[0]
    assert lines[0].endswith("): restore it from backup or move it away to start over"), lines[0]
    assert bench.store.stat().st_size == 0, "the emptied store was not left as it was"
    assert read_ledger(bench.ledger) == ledger_before, "finished issues ran again"
