"""The completion gate on a real branch: commands with timeouts, commits, diff size, protected paths, rounds."""

from __future__ import annotations

import sys
import time

import pytest

from tests.pipeline.worktree_session import World
from waterspider_tui.adapters.pipeline.gate import Gate, GateOptions
from waterspider_tui.core.models import ErrorClass, Outcome
from waterspider_tui.core.state import Attempt


def _gate(**options: object) -> Gate:
    return Gate(GateOptions.model_validate(options))


def _gate_failure(attempt: int) -> Attempt:
    return Attempt(session_id=f"1-{attempt}-x", attempt=attempt, outcome=Outcome.FAILED, error_class=ErrorClass.GATE_FAILED,
                   error="gate: failed", cost_usd=0.0, duration_s=1.0, log_path="", host="local")


async def test_a_branch_that_passes_every_check_goes_on(world: World) -> None:
    world.commit()
    gate = _gate(commands=[{"name": "tests", "run": [sys.executable, "-c", "print('3 passed')"]}], max_diff_lines=10,
                 protected_paths=[".github/"])
    outcome = await gate.run(world.context())
    assert outcome.ok, outcome.summary
    assert outcome.facts["gate"] == "passed"
    assert "tests ok" in str(outcome.facts["gate_checks"]) and "commits ok (1 commit)" in str(outcome.facts["gate_checks"])


async def test_a_failing_command_sends_the_session_back_with_the_end_of_its_output(world: World) -> None:
    world.commit()
    noisy = "import sys\nfor i in range(3000): print(f'line {i}')\nprint('FAILED test_greeting - AssertionError')\nsys.exit(1)"
    gate = _gate(commands=[{"name": "tests", "run": [sys.executable, "-c", noisy]}], output_tail_chars=500, max_rounds=2)
    outcome = await gate.run(world.context())
    assert not outcome.ok and outcome.error_class == ErrorClass.GATE_FAILED.value
    assert "exit 1" in outcome.summary and "round 1 of 2" in outcome.summary
    output = str(outcome.facts["gate_output"])
    assert "FAILED test_greeting" in output and "line 0\n" not in output and len(output) < 700, "only the tail is kept"
    assert "FAILED test_greeting" in outcome.retry_with_prompt and "round 1 of 2" in outcome.retry_with_prompt


async def test_after_its_rounds_the_gate_fails_the_session_for_good(world: World) -> None:
    world.commit()
    gate = _gate(commands=[{"name": "lint", "run": "echo 'E501 line too long' && exit 3"}], max_rounds=2)
    world.next_attempt(_gate_failure(1))
    second = await gate.run(world.context())
    assert second.retry_with_prompt and second.facts["gate_round"] == 2
    world.next_attempt(_gate_failure(2))
    third = await gate.run(world.context())
    assert not third.ok and third.error_class == "gate_failed" and third.retry_with_prompt == ""
    assert "E501 line too long" in str(third.facts["gate_output"])


async def test_no_commit_a_large_diff_and_a_protected_path_all_fail_together(world: World) -> None:
    empty = await _gate().run(world.context())
    assert not empty.ok and "no commit beyond main" in empty.summary
    world.commit(".github/workflows/ci.yml", "x\n" * 30)
    outcome = await _gate(max_diff_lines=20, max_files_changed=5, protected_paths=[".github/", "*.lock"]).run(world.context())
    assert not outcome.ok
    assert "diff size (30 lines, at most 20)" in outcome.summary
    assert "touched .github/workflows/ci.yml" in outcome.summary
    assert "files changed" not in outcome.summary


async def test_a_command_past_its_timeout_is_killed_with_what_it_started(world: World) -> None:
    world.commit()
    gate = _gate(commands=[{"name": "hang", "run": "echo started; sleep 30 & sleep 30", "timeout_s": 0.5}])
    started = time.monotonic()
    outcome = await gate.run(world.context())
    assert time.monotonic() - started < 5
    assert not outcome.ok and "timed out after 0.5s" in outcome.summary
    assert "started" in str(outcome.facts["gate_output"])


async def test_commands_see_no_secret_of_the_orchestrator(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    world.commit()
    show = "import os, sys; print(sorted(os.environ)); sys.exit(1)"
    gate = _gate(commands=[{"name": "env", "run": [sys.executable, "-c", show]}], env={"CI": "1"})
    outcome = await gate.run(world.context())
    output = str(outcome.facts["gate_output"])
    assert "GITHUB_TOKEN" not in output and "'CI'" in output and "'PATH'" in output


async def test_a_gate_switched_off_lets_the_branch_through_and_says_so(world: World) -> None:
    outcome = await _gate(enabled=False, commands=[{"name": "t", "run": "exit 1"}]).run(world.context())
    assert outcome.ok and outcome.facts == {"gate": "off"}
