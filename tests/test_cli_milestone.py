"""`waterspider milestone status` and `integrate` as a user runs them: a subprocess on a real repository and store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adapters.test_milestone_integration import git, issue_branch, make_repo
from tests.sinks.backlog import T0, failed, issue, seen, started, succeeded
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass
from waterspider_tui.store.event_log import EventLog

GATE = '[pipeline.gate]\ncommands = [{ name = "parts", run = "test -f src/one.py && test -f src/two.py" }]\n'


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WATERSPIDER_"):
            monkeypatch.delenv(name)


def waterspider(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "waterspider_tui", "milestone", *args], cwd=root, capture_output=True, text=True, timeout=120)


def project(tmp_path: Path, *, conflict: bool = False, done: tuple[int, ...] = (1, 2, 3)) -> Path:
    """v1.0: #1, #2 (after #1), #3 (after #2), each on its own branch; `done` of them succeeded in the store."""
    root = make_repo(tmp_path)
    issue_branch(root, 1, {"src/one.py": "ONE = 1\n", "src/app.py": "def main():\n    return 1\n"})
    issue_branch(root, 2, {"src/two.py": "TWO = 2\n"})
    issue_branch(root, 3, {"src/app.py": "def main():\n    return 3\n"} if conflict else {"src/three.py": "THREE = 3\n"})
    (root / "waterspider.toml").write_text(GATE)
    log = EventLog(root / ".waterspider" / "state.db")
    events = seen(issue(1), issue(2, deps=[1]), issue(3, deps=[2]), issue(4, milestone="v2.0"))
    for number in done:
        events += [started(number, T0 + number), succeeded(number, T0 + number)]
    log.append(events)
    log.close()
    return root


def stored(root: Path) -> list[ev.Event]:
    log = EventLog(root / ".waterspider" / "state.db", read_only=True)
    try:
        return list(log.read())
    finally:
        log.close()


def test_integrate_builds_the_branch_in_order_runs_the_gate_and_records_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = waterspider(root, "integrate", "v1.0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("milestone v1.0: 3 issues integrated into integration/v1.0 at ") and "gate passed" in result.stdout
    subjects = git(root, "log", "--first-parent", "--format=%s", "main..integration/v1.0").splitlines()[::-1]
    assert [subject.split()[1] for subject in subjects] == ["#1", "#2", "#3"]
    [report] = [event for event in stored(root) if isinstance(event, ev.MilestoneIntegrated)]
    assert report.issues == ("local#1", "local#2", "local#3") and report.gate_ok
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main", "the operator's checkout is untouched"

    shown = waterspider(root, "status")
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [
        "milestones (2):", "     v1.0: 3/3 done", f"       integrated into integration/v1.0 at {report.head[:10]}, gate passed", "     v2.0: 0/1 done · 1 queued",
    ]


def test_a_conflict_is_printed_precisely_and_exits_1(tmp_path: Path) -> None:
    root = project(tmp_path, conflict=True)
    result = waterspider(root, "integrate", "v1.0")
    assert result.returncode == 1
    assert "#3 (feature/issue-3) conflicts with #1 (feature/issue-1) in src/app.py (merge base " in result.stdout
    assert "Nothing was resolved" in result.stdout and "requeue #3" in result.stdout
    [conflict] = [event for event in stored(root) if isinstance(event, ev.MilestoneConflict)]
    assert conflict.issue == "local#3" and conflict.files == ("src/app.py",)
    assert "conflict: #3 with #1 in src/app.py" in waterspider(root, "status", "v1.0").stdout


def test_an_incomplete_milestone_needs_partial_and_a_failing_gate_exits_1(tmp_path: Path) -> None:
    root = project(tmp_path, done=(1,))
    refused = waterspider(root, "integrate", "v1.0")
    assert refused.returncode == 1 and "v1.0: 1/3 done" in refused.stderr and "--partial" in refused.stderr
    assert not [event for event in stored(root) if isinstance(event, ev.MILESTONE_EVENTS)]
    partial = waterspider(root, "integrate", "v1.0", "--partial")
    assert partial.returncode == 1 and "1 issues integrated" in partial.stdout and "gate FAILED" in partial.stdout, "src/two.py is not there yet"
    assert waterspider(root, "integrate", "v1.0", "--partial", "--no-gate").returncode == 0


def test_status_of_one_milestone_lists_its_issues_and_json_has_the_counts(tmp_path: Path) -> None:
    root = project(tmp_path, done=(1,))
    lines = waterspider(root, "status", "v1.0").stdout.splitlines()
    assert lines[:2] == ["milestones (1):", "     v1.0: 1/3 done · 1 queued · 1 blocked"]
    assert lines[2:] == ["     v1.0 #1: done  Task 1", "     v1.0 #2: queued  Task 2", "     v1.0 #3: blocked  Task 3"]
    [row] = json.loads(waterspider(root, "status", "v1.0", "--json").stdout)
    assert (row["total"], row["done"], row["blocked"]) == (3, ["local#1"], ["local#3"])


def test_milestone_status_calls_blocked_what_status_calls_blocked(tmp_path: Path) -> None:
    root = project(tmp_path, done=(1,))
    (root / "waterspider.toml").write_text('[pipeline]\ndependants_wait_for = "merged"\n' + GATE)  # #1 succeeded, not merged
    log = EventLog(root / ".waterspider" / "state.db")
    pull_request = ev.StepFinished(ts=T0 + 2, issue="local#1", session_id="s-1-1", step="pull_request", ok=True, facts={"pr_url": "https://github.com/o/r/pull/9"})
    retry_later = [started(5, T0 + 5), failed(5, T0 + 6, error_class=ErrorClass.CRASHED, will_retry=True),
                   ev.RetryScheduled(ts=T0 + 6, issue="local#5", not_before=4_000_000_000.0, error_class="crashed")]
    log.append([pull_request, *seen(issue(5)), *retry_later])
    log.close()
    overall = subprocess.run([sys.executable, "-m", "waterspider_tui", "status", "--json"], cwd=root, capture_output=True, text=True, timeout=120)
    blocked_in_status = {item["issue"] for item in json.loads(overall.stdout)["blocked"]}
    assert blocked_in_status == {2, 3, 5}
    lines = waterspider(root, "status", "v1.0").stdout.splitlines()
    assert lines[1] == "     v1.0: 1/4 done · 3 blocked", lines
    assert "     v1.0 #2: blocked  Task 2" in lines and "     v1.0 #5: blocked  Task 5" in lines
    [row] = json.loads(waterspider(root, "status", "v1.0", "--json").stdout)
    assert (row["queued"], row["blocked"]) == ([], ["local#2", "local#3", "local#5"])


def test_unknown_names_and_a_running_orchestrator_are_usage_errors(tmp_path: Path) -> None:
    from waterspider_tui.engine.locks import run_locks

    root = project(tmp_path)
    unknown = waterspider(root, "integrate", "v9")
    assert unknown.returncode == 2 and "no issue has the milestone 'v9' (known: v1.0, v2.0)" in unknown.stderr
    assert waterspider(root, "status", "v9").returncode == 2
    locks = run_locks(root / ".waterspider" / "state.db")
    locks.acquire()
    try:
        busy = waterspider(root, "integrate", "v1.0")
    finally:
        locks.release()
    assert busy.returncode == 2 and "an orchestrator is running" in busy.stderr
