"""CommandAgent with real scripts: the exit-code contract, argv substitution and the environment allowlist."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from agents_testkit import feed_all, make_context, run_spec

from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.command import CommandAgent, CommandOptions, CommandStreamParser
from waterspider_tui.core.models import ErrorClass, Outcome


def script(folder: Path, body: str, name: str = "agent.sh") -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_command(tmp_path: Path, body: str, **context: object):
    program = script(tmp_path, body)
    agent = CommandAgent(CommandOptions(argv=(str(program), "{number}")), EnvPolicy())
    spec = agent.launch(make_context(tmp_path, tmp_path / "session", **context))
    done = run_spec(spec)
    parser = agent.parser()
    entries = feed_all(parser, done.stdout)
    return parser.finish(done.returncode), entries, parser


@pytest.mark.parametrize(
    ("body", "outcome", "error_class"),
    [
        ('echo "analysing"\necho "implementing"\nexit 0\n', Outcome.SUCCEEDED, None),
        ('echo "ERROR: cannot do this"\nexit 2\n', Outcome.FAILED, ErrorClass.AGENT_EXIT),
        ('echo "API busy"\nexit 75\n', Outcome.FAILED, ErrorClass.AGENT_RETRY_LATER),
        ("exec /nonexistent/agent-program-xyz\n", Outcome.FAILED, ErrorClass.AGENT_NOT_FOUND),
        ("exit 1\n", Outcome.FAILED, ErrorClass.CRASHED),
        ("exit 3\n", Outcome.FAILED, ErrorClass.CRASHED),
        ("kill -TERM $$\n", Outcome.FAILED, ErrorClass.CRASHED),
    ],
)
def test_exit_code_contract(tmp_path: Path, body: str, outcome: Outcome, error_class: ErrorClass | None) -> None:
    result, _, _ = run_command(tmp_path, body)
    assert (result.outcome, result.error_class) == (outcome, error_class)


def test_signal_death_is_described(tmp_path: Path) -> None:
    result, _, _ = run_command(tmp_path, "kill -TERM $$\n")
    assert result.exit_code == -15
    assert result.error == "the agent crashed (killed by SIGTERM (exit -15))"


def test_stdout_is_the_log_and_the_last_line_the_phase(tmp_path: Path) -> None:
    result, entries, parser = run_command(tmp_path, 'echo "reading the code"\necho\necho "error: flaky test"\necho "running tests"\nexit 0\n')
    assert [(entry.kind, entry.text) for entry in entries] == [
        ("text", "reading the code"), ("error", "error: flaky test"), ("text", "running tests"),
    ]  # fmt: skip
    assert parser.progress().phase == "running tests"
    assert result.summary == "reading the code\nerror: flaky test\nrunning tests"


def test_argv_is_filled_and_the_issue_is_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_must_not_leak")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/secret")
    monkeypatch.setenv("MY_TOOL_HOME", "/opt/tool")
    program = script(tmp_path, 'echo "args: $1 | $2 | $3"\nenv\necho "body: $(cat "$WATERSPIDER_ISSUE_BODY_FILE")"\n')
    options = CommandOptions(argv=f"{program} {{number}} '{{title}}' {{branch}}", env_allow=("MY_TOOL_*",), env={"FIXED": "1"})
    agent = CommandAgent(options, EnvPolicy(extra={"OPERATOR_ADDED": "yes"}))
    spec = agent.launch(make_context(tmp_path, tmp_path / "session", attempt=3))
    assert spec.argv == (str(program), "7", "Fix the login crash", "feature/issue-7")
    assert spec.cwd == str(tmp_path)
    output = run_spec(spec).stdout.decode()
    assert "args: 7 | Fix the login crash | feature/issue-7" in output
    assert "ghp_must_not_leak" not in output and "GITHUB_TOKEN" not in output
    assert "SLACK_WEBHOOK_URL" not in output
    expected = {
        "WATERSPIDER_ISSUE_NUMBER=7", "WATERSPIDER_ISSUE_TITLE=Fix the login crash", "WATERSPIDER_ISSUE_LABELS=bug,P1-High",
        "WATERSPIDER_ISSUE_REPO=acme/widgets", "WATERSPIDER_ISSUE_BRANCH=feature/issue-7", f"WATERSPIDER_ISSUE_WORKTREE={tmp_path}",
        f"WATERSPIDER_ISSUE_SESSION_DIR={tmp_path / 'session'}", "WATERSPIDER_ISSUE_ATTEMPT=3", "MY_TOOL_HOME=/opt/tool",
        "FIXED=1", "OPERATOR_ADDED=yes", f"PATH={os.environ['PATH']}",
    }  # fmt: skip
    assert expected <= set(output.splitlines())
    assert "body: Logging in with an empty password crashes." in output
    body_file = Path(spec.env["WATERSPIDER_ISSUE_BODY_FILE"])
    assert body_file.parent == tmp_path / "session" and body_file.read_text().endswith("```")


def test_stall_and_timeout_win_over_the_exit_code() -> None:
    parser = CommandStreamParser()
    assert parser.finish(-15, stalled=True).error_class is ErrorClass.STALLED
    assert parser.finish(-9, timed_out=True).error_class is ErrorClass.TIMEOUT
    assert parser.finish(None).error_class is ErrorClass.CRASHED


def test_empty_argv_is_refused() -> None:
    with pytest.raises(ValueError, match="argv"):
        CommandAgent(CommandOptions(argv=""), EnvPolicy())


def test_hostile_output_never_raises() -> None:
    parser = CommandStreamParser()
    assert parser.feed("x" * (10 * 1024 * 1024))[0].text.endswith("…[cut]")
    assert parser.feed(b"\xff\xfe\x00".decode("utf-8", "surrogateescape"))[0].text.encode("utf-8")
    assert parser.feed("") == []


def test_a_command_failure_is_told_as_the_command_exit_not_as_a_model_problem(tmp_path: Path) -> None:
    from waterspider_tui.core.advice import advice_for
    from waterspider_tui.core.retry import decide_retry

    final, _, _ = run_command(tmp_path, 'echo "cannot do this"\nexit 2\n')
    assert final.error == "the command exited 2 (failed, not to be retried): cannot do this"
    assert advice_for(final.error_class) == (
        "The agent command reported that it failed (exit 2: not to be retried). "
        "Read what it printed (`waterspider log show NUMBER`), fix the cause, then requeue."
    )
    assert not decide_retry(final, 1, max_attempts=3, backoff_s=0, now=0).retry

    later, _, _ = run_command(tmp_path, 'echo "API busy"\nexit 75\n')
    assert later.error == "the command exited 75 (retry later): API busy"
    assert "overloaded" not in advice_for(later.error_class).lower()
    assert decide_retry(later, 1, max_attempts=3, backoff_s=0, now=0).retry
