"""The real Claude Code CLI end to end, against a scripted model API on 127.0.0.1.

Uses the CLI bundled in claude-agent-sdk (a test extra), else `claude` on PATH; skipped when
neither runs here, and fails instead under WATERSPIDER_REQUIRE_REAL_CLIS=1 (`.ci/run`). Each run
takes about a second.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import model_server as api
import pytest
from agents_testkit import Worktree, feed_all, git, make_context, run_spec, spec_stdin
from real_cli import found_or_required

from waterspider_tui.adapters.executors.local import write_launch_files
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.claude import ClaudeAgent, ClaudeOptions, bundled_claude
from waterspider_tui.adapters.executors.local_processes import DetachedProcesses
from waterspider_tui.core.models import ErrorClass, Outcome


def _runnable_cli() -> tuple[str | None, str]:
    binary = bundled_claude() or shutil.which("claude")
    if binary is None:
        return None, "no Claude Code CLI: install the test extra (claude-agent-sdk bundles it) or put `claude` on PATH"
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"the Claude Code CLI at {binary} cannot run here: {error}"
    if done.returncode != 0:
        return None, f"the Claude Code CLI at {binary} cannot run here: {done.stderr.strip()[:200]}"
    return binary, ""


CLI, WHY_NOT = found_or_required(_runnable_cli())
pytestmark = pytest.mark.skipif(CLI is None, reason=WHY_NOT)


def run_claude(worktree: Worktree, script: Callable[[dict[str, Any]], api.Reply], **options: Any):
    """One real CLI session in the worktree against the scripted model; returns what the engine would see."""
    home = worktree.repo.parent / "home"  # the CLI keeps sessions under $HOME/.claude; keep them here
    home.mkdir(exist_ok=True)
    resume = options.pop("resume", "")
    with api.serve(script) as server:
        policy = EnvPolicy(extra={
            "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-ant-test", "HOME": str(home),
            "CLAUDE_CODE_MAX_RETRIES": "0", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        })  # fmt: skip
        claude_options = ClaudeOptions(binary=CLI or "", model="claude-sonnet-4-5", permission_mode="bypassPermissions",
                                       is_sandbox=os.geteuid() == 0, **options)  # fmt: skip
        agent = ClaudeAgent(claude_options, policy)
        spec = agent.launch(make_context(worktree.path, worktree.repo.parent / "session", resume_agent_session=resume))
        done = run_spec(spec, timeout=120)
        parser = agent.parser()
        entries = feed_all(parser, done.stdout)
        return parser, entries, parser.finish(done.returncode), spec, server.requests


def test_a_session_solves_the_issue_and_commits_on_its_branch(worktree: Worktree) -> None:
    fix = worktree.path / "fix.txt"
    commit = "git add fix.txt && git -c user.name=Agent -c user.email=agent@example.invalid commit -q -m 'Fix #7'"

    def script(body: dict[str, Any]) -> api.Reply:
        step = api.turn_of(body)
        if step == 0:
            return api.tool("Write", {"file_path": str(fix), "content": "fixed\n"}, "I'll write the fix.")
        if step == 1:
            return api.tool("Bash", {"command": commit, "description": "Commit the fix"})
        return api.text("Done. Committed the fix for #7.")

    parser, entries, result, spec, requests = run_claude(worktree, script)
    assert (result.outcome, result.error_class, result.exit_code) == (Outcome.SUCCEEDED, None, 0)
    assert result.turns == 3 and result.cost_usd > 0
    assert result.summary == "Done. Committed the fix for #7."
    assert parser.session_id == spec.agent_session_id
    assert parser.tool_counts == {"Write": 1, "Bash": 1}
    assert [entry.text for entry in entries if entry.kind == "tool" and not entry.text.startswith("→")] == [
        "Write fix.txt (+1)", f"Bash {commit}",
    ]  # fmt: skip
    assert git(worktree.repo, "log", "-1", "--format=%s", "feature/issue-7") == "Fix #7"
    assert git(worktree.repo, "log", "-1", "--format=%s", "main") == "initial"
    assert fix.read_text() == "fixed\n"
    first_prompt = requests[0]["body"]["messages"][0]["content"]
    assert "Resolve issue #7 of acme/widgets: Fix the login crash" in str(first_prompt)

    # A retry resumes the same conversation: same session id, and the model sees the history.
    resumed, _, again, resumed_spec, resumed_requests = run_claude(
        worktree, lambda body: api.text("Nothing left to do."), resume=spec.agent_session_id
    )
    assert again.outcome is Outcome.SUCCEEDED
    assert resumed.session_id == spec.agent_session_id == resumed_spec.agent_session_id
    assert api.turn_of(resumed_requests[0]["body"]) >= 3


def test_a_megabyte_issue_body_reaches_the_model_through_the_runner(worktree: Worktree, tmp_path: Path) -> None:
    """Over the 128 KiB one argument may hold: the prompt goes to the CLI on stdin, from the session dir."""
    body = "Steps to reproduce:\n" + "x" * 1_000_000 + "\nEND-OF-BODY"
    home = worktree.repo.parent / "home"
    home.mkdir(exist_ok=True)
    session = tmp_path / "session"
    with api.serve(lambda request: api.text("Read it all.")) as server:
        policy = EnvPolicy(extra={"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-ant-test", "HOME": str(home),
                                  "CLAUDE_CODE_MAX_RETRIES": "0", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})  # fmt: skip
        agent = ClaudeAgent(ClaudeOptions(binary=CLI or "", model="claude-sonnet-4-5"), policy)
        spec = agent.launch(make_context(worktree.path, session, body=body))
        assert sum(len(arg) for arg in spec.argv) < 4096

        async def run() -> int | None:
            executor = DetachedProcesses(niceness=0)
            write_launch_files(session, spec)  # as the session's executor does
            await executor.start(session, spec)
            return (await asyncio.wait_for(executor.wait(session), 120)).returncode

        returncode = asyncio.run(run())
        requests = server.requests
    parser = agent.parser()
    feed_all(parser, (session / "stdout.jsonl").read_bytes())
    result = parser.finish(returncode)
    assert (result.outcome, result.summary) == (Outcome.SUCCEEDED, "Read it all."), (session / "stderr.log").read_text()[-2000:]
    first_prompt = str(requests[0]["body"]["messages"][0]["content"])
    assert "Resolve issue #7 of acme/widgets: Fix the login crash" in first_prompt and "END-OF-BODY" in first_prompt


@pytest.mark.parametrize(
    ("reply", "options", "error_class"),
    [
        (api.tool("Bash", {"command": "echo step", "description": "step"}), {"max_turns": 1}, ErrorClass.MAX_TURNS),
        (api.error(401, "authentication_error", "invalid x-api-key"), {}, ErrorClass.AUTH),
        (api.error(529, "overloaded_error", "Overloaded"), {}, ErrorClass.OVERLOADED),
        (api.error(429, "rate_limit_error", "Number of requests has exceeded your rate limit"), {}, ErrorClass.RATE_LIMITED),
    ],
)
def test_failures_from_the_real_cli(worktree: Worktree, reply: api.Reply, options: dict, error_class: ErrorClass) -> None:
    _, _, result, _, _ = run_claude(worktree, lambda body: reply, **options)
    assert (result.outcome, result.error_class, result.exit_code) == (Outcome.FAILED, error_class, 1)
    assert result.error


def test_a_killed_cli_is_crashed(worktree: Worktree, tmp_path: Path) -> None:
    """SIGTERM mid-request: no result line, exit 143 (the CLI's own handler) or -15."""
    released = threading.Event()

    def slow(body: dict[str, Any]) -> api.Reply:
        released.wait(30)
        return api.text("too late")

    home = worktree.repo.parent / "home"
    home.mkdir(exist_ok=True)
    with api.serve(slow) as server:
        policy = EnvPolicy(extra={"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "sk-ant-test", "HOME": str(home),
                                  "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})  # fmt: skip
        agent = ClaudeAgent(ClaudeOptions(binary=CLI or ""), policy)
        spec = agent.launch(make_context(worktree.path, tmp_path / "session"))
        with spec_stdin(spec) as stdin:
            process = subprocess.Popen(list(spec.argv), env=spec.env, cwd=spec.cwd, stdin=stdin, stdout=subprocess.PIPE)
        while not server.requests:  # wait until the CLI is mid-request
            if process.poll() is not None:
                pytest.fail("the CLI exited before asking the model")
            time.sleep(0.05)
        process.terminate()
        stdout, _ = process.communicate(timeout=30)
        released.set()
    parser = agent.parser()
    feed_all(parser, stdout)
    result = parser.finish(process.returncode)
    assert parser.session_id == spec.agent_session_id
    assert (result.outcome, result.error_class) == (Outcome.FAILED, ErrorClass.CRASHED)
