"""The simulated agent as a real child process in a real git worktree."""

from __future__ import annotations

import sys
import uuid

import pytest
from agents_testkit import Worktree, feed_all, git, make_context, run_spec

from waterspider_tui.adapters.agents import simulated_run
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.simulated import SimulatedAgent, SimulatedOptions
from waterspider_tui.adapters.agents.simulated_run import decide_failure
from waterspider_tui.core.models import ErrorClass, Outcome


def run_simulated(worktree: Worktree, options: SimulatedOptions, **context: object):
    agent = SimulatedAgent(options, EnvPolicy())
    spec = agent.launch(make_context(worktree.path, worktree.repo.parent / "session", **context))
    done = run_spec(spec)
    parser = agent.parser()
    entries = feed_all(parser, done.stdout)
    return parser, entries, parser.finish(done.returncode), done, spec


def test_success_commits_on_the_branch_and_parses_as_succeeded(worktree: Worktree) -> None:
    parser, entries, result, done, spec = run_simulated(worktree, SimulatedOptions(duration_s=0.2, steps=2))
    assert done.returncode == 0, done.stderr
    assert result.outcome is Outcome.SUCCEEDED and result.error_class is None
    assert parser.session_id == spec.agent_session_id and uuid.UUID(spec.agent_session_id)
    # One standard-library file in an isolated interpreter: cheap to start a hundred at once.
    assert spec.argv[:4] == (sys.executable, "-I", "-S", simulated_run.__file__)
    # The commit is real, on the issue branch, and main is untouched.
    assert git(worktree.repo, "log", "-1", "--format=%s", "feature/issue-7") == "Work on #7: Fix the login crash"
    assert git(worktree.repo, "log", "-1", "--format=%s", "main") == "initial"
    notes = (worktree.path / "waterspider-work" / "issue-7.md").read_text()
    assert notes.startswith("# Issue #7: Fix the login crash")
    assert git(worktree.path, "status", "--porcelain") == ""
    # It reads like Claude Code: todos drive the phases, the result counts turns and cost.
    progress = parser.progress()
    assert progress.todos[-1] == ("Commit on the branch", "completed")
    assert (progress.phase, progress.phases_done, progress.phases_total) == ("done", 4, 4)
    assert result.turns > 5 and result.cost_usd > 0
    assert {"TodoWrite", "Read", "Write", "Bash"} <= set(parser.tool_counts)
    assert any(entry.text.startswith("Bash git add") for entry in entries)
    assert not [entry for entry in entries if entry.kind == "raw"]


@pytest.mark.parametrize(
    ("fail_mode", "error_class"),
    [("max_turns", ErrorClass.MAX_TURNS), ("overloaded", ErrorClass.OVERLOADED), ("crash", ErrorClass.CRASHED),
     ("usage_limit", ErrorClass.USAGE_LIMIT)],
)  # fmt: skip
def test_failures_parse_as_failed_with_their_class(worktree: Worktree, fail_mode: str, error_class: ErrorClass) -> None:
    _, _, result, done, _ = run_simulated(worktree, SimulatedOptions(duration_s=0.05, steps=1, fail_rate=1.0, fail_mode=fail_mode))
    assert done.returncode == 1
    assert (result.outcome, result.error_class) == (Outcome.FAILED, error_class)
    assert git(worktree.repo, "log", "-1", "--format=%s", "feature/issue-7") == "initial"
    if fail_mode == "usage_limit":
        assert result.retry_at is not None
    if fail_mode == "crash":
        assert b"crashed on purpose" in done.stderr


def test_same_seed_same_outcome(worktree: Worktree) -> None:
    draws = [decide_failure(seed, number, 1, 0.5) for seed in range(3) for number in range(40)]
    assert draws == [decide_failure(seed, number, 1, 0.5) for seed in range(3) for number in range(40)]
    assert 0 < draws.count("") < len(draws)  # a 50% rate does both
    assert set(draws) - {""} <= {"max_turns", "overloaded", "crash"}
    options = SimulatedOptions(duration_s=0.05, steps=1, fail_rate=0.5, seed=11)
    agent = SimulatedAgent(options)
    contexts = [make_context(worktree.path, worktree.repo.parent / "s", number=n) for n in range(1, 40)]
    failing = next(c for c in contexts if agent.planned_failure(c) in ("max_turns", "overloaded"))
    passing = next(c for c in contexts if agent.planned_failure(c) == "")
    outcomes = []
    for context in (failing, failing, passing):
        done = run_spec(agent.launch(context))
        parser = ClaudeStreamParser()
        feed_all(parser, done.stdout)
        outcomes.append(parser.finish(done.returncode).error_class)
    assert outcomes[0] == outcomes[1] is not None
    assert outcomes[2] is None


def test_attempt_changes_the_draw() -> None:
    per_attempt = {attempt: [decide_failure(0, n, attempt, 0.5) for n in range(50)] for attempt in (1, 2)}
    assert per_attempt[1] != per_attempt[2]


def test_resume_keeps_the_session_id(worktree: Worktree) -> None:
    session = "11111111-2222-3333-4444-555555555555"
    parser, _, result, _, spec = run_simulated(worktree, SimulatedOptions(duration_s=0.05, steps=1), resume_agent_session=session, attempt=2)
    assert spec.agent_session_id == session == parser.session_id
    assert result.outcome is Outcome.SUCCEEDED


def test_outside_a_git_repository_it_fails_cleanly(tmp_path) -> None:
    agent = SimulatedAgent(SimulatedOptions(duration_s=0.05, steps=1))
    done = run_spec(agent.launch(make_context(tmp_path, tmp_path / "session")))
    parser = agent.parser()
    feed_all(parser, done.stdout)
    result = parser.finish(done.returncode)
    assert done.returncode == 1
    assert result.error_class is ErrorClass.CRASHED and "git commit failed" in result.error


def test_a_bad_fail_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="fail_mode"):
        SimulatedOptions(fail_mode="explode")


def test_durations_jitter_per_issue_and_attempt_within_bounds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    agent = SimulatedAgent(SimulatedOptions(duration_s=10.0, duration_jitter=0.5))
    durations = [agent.duration_for(make_context(tmp_path, tmp_path / "s", number=n)) for n in range(1, 41)]
    assert all(5.0 <= d <= 15.0 for d in durations)
    assert max(durations) - min(durations) > 5.0, "spread over most of the range"
    assert durations == [agent.duration_for(make_context(tmp_path, tmp_path / "s", number=n)) for n in range(1, 41)]
    retry = agent.duration_for(make_context(tmp_path, tmp_path / "s", number=1, attempt=2))
    assert retry != durations[0]
    assert SimulatedAgent(SimulatedOptions(duration_s=10.0)).duration_for(make_context(tmp_path, tmp_path / "s", number=1)) == 10.0
    with pytest.raises(ValueError, match="duration_jitter"):
        SimulatedOptions(duration_jitter=1.5)


def test_sent_back_to_the_same_worktree_it_adds_a_commit(worktree: Worktree) -> None:
    """A gate round resumes the conversation in the worktree the first round committed in, maybe as
    the same attempt (an orchestrator's round numbering is not the agent's business): it does more
    work and commits it, never ending on git's `nothing to commit`."""
    session = "11111111-2222-3333-4444-555555555555"
    options = SimulatedOptions(duration_s=0.05, steps=1)
    for _ in range(2):
        _, _, result, done, _ = run_simulated(worktree, options, resume_agent_session=session, attempt=1)
        assert done.returncode == 0, done.stdout[-1000:] + done.stderr
        assert result.outcome is Outcome.SUCCEEDED
    assert git(worktree.repo, "rev-list", "--count", "main..feature/issue-7") == "2"
    assert git(worktree.path, "status", "--porcelain") == ""
