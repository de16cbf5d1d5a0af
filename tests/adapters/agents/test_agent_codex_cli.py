"""The real Codex CLI end to end, against a scripted Responses API on 127.0.0.1.

Uses `$WATERSPIDER_CODEX_BIN`, else the npm install `.ci/run` makes in `.ci-tools/`, else `codex` on
PATH; those tests skip when none runs here, and fail instead under WATERSPIDER_REQUIRE_REAL_CLIS=1
(`.ci/run`). Codex stays on loopback: its own provider entry points
at the stand-in, plugin sync and analytics are off, and a dead proxy catches any other request.
Each run takes one to two seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses_server as api
from agents_testkit import Worktree, feed_all, git, make_context, run_spec, spec_stdin
from real_cli import found_or_required

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec
from waterspider_tui.adapters.agents.codex import CodexAgent, CodexOptions, classify_codex_error
from waterspider_tui.core.models import ErrorClass, Outcome

REPO_ROOT = Path(__file__).resolve().parents[3]
PROJECT_CODEX = REPO_ROOT / ".ci-tools" / "node_modules" / ".bin" / "codex"
MODEL = "gpt-5.5"
"""A model Codex 0.169 has metadata for, so it does not warn about a fallback."""
API_KEY = "sk-loopback-test"


def _runnable_cli() -> tuple[str | None, str]:
    binary = os.environ.get("WATERSPIDER_CODEX_BIN") or (str(PROJECT_CODEX) if PROJECT_CODEX.exists() else shutil.which("codex"))
    if binary is None:
        return None, (
            f"no Codex CLI: set WATERSPIDER_CODEX_BIN, run `npm install --prefix .ci-tools @openai/codex` "
            f"(gives {PROJECT_CODEX.relative_to(REPO_ROOT)}) or put `codex` on PATH"
        )
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"the Codex CLI at {binary} cannot run here: {error}"
    if done.returncode != 0:
        return None, f"the Codex CLI at {binary} cannot run here: {(done.stderr or done.stdout).strip()[:200]}"
    return binary, ""


CLI, WHY_NOT = found_or_required(_runnable_cli())
needs_cli = pytest.mark.skipif(CLI is None, reason=WHY_NOT)


def loopback_agent(worktree: Worktree, server: api.ResponsesServer, **options: Any) -> CodexAgent:
    """CodexAgent as an operator would configure it, pointed at the stand-in and cut off from everything else."""
    home = worktree.repo.parent / "codex-home"  # CODEX_HOME: sessions, logs and state stay in the test's tmp dir
    home.mkdir(exist_ok=True)
    dead_proxy = "http://127.0.0.1:9"
    policy = EnvPolicy(extra={
        "CODEX_HOME": str(home), "HOME": str(home), "OPENAI_API_KEY": API_KEY,
        "HTTPS_PROXY": dead_proxy, "HTTP_PROXY": dead_proxy, "ALL_PROXY": dead_proxy, "NO_PROXY": "127.0.0.1,localhost",
    })  # fmt: skip
    config = {
        "model_provider": '"loopback"',
        "model_providers.loopback": f'{{name="loopback", base_url="{server.url}", wire_api="responses", env_key="OPENAI_API_KEY"}}',
        "features.plugins": "false",  # else it runs `git ls-remote https://github.com/openai/plugins.git`
        "analytics.enabled": "false",
        "check_for_update_on_startup": "false",
        # Only the worktree (and the dirs CodexAgent adds) stay writable, as when a repo is not under /tmp.
        "sandbox_workspace_write.exclude_slash_tmp": "true",
        "sandbox_workspace_write.exclude_tmpdir_env_var": "true",
        **options.pop("config", {}),
    }
    return CodexAgent(CodexOptions(binary=CLI or "", model=MODEL, config=config, **options), policy)


def run_codex(worktree: Worktree, script: Callable[[dict[str, Any]], api.Reply], **options: Any):
    """One real CLI session in the worktree against the scripted model; returns what the engine would see."""
    resume = options.pop("resume", "")
    with api.serve(script) as server:
        agent = loopback_agent(worktree, server, **options)
        spec = agent.launch(make_context(worktree.path, worktree.repo.parent / "session", resume_agent_session=resume))
        done = run_spec(spec, timeout=120)
        parser = agent.parser()
        entries = feed_all(parser, done.stdout)
        return parser, entries, parser.finish(done.returncode), spec, server.model_requests


COMMIT = "git add fix.txt && git -c user.name=Agent -c user.email=agent@example.invalid commit -q -m 'Fix #7'"


def fix_and_commit(body: dict[str, Any]) -> api.Reply:
    step = api.turn_of(body)
    if step == 0:
        return api.shell("printf 'fixed\\n' > fix.txt", "I'll write the fix.")
    if step == 1:
        return api.shell(COMMIT)
    return api.text("Done. Committed the fix for #7.")


@needs_cli
def test_a_session_solves_the_issue_and_commits_on_its_branch(worktree: Worktree) -> None:
    parser, entries, result, spec, requests = run_codex(worktree, fix_and_commit)
    assert (result.outcome, result.error_class, result.exit_code) == (Outcome.SUCCEEDED, None, 0)
    assert result.summary == "Done. Committed the fix for #7." and result.turns == 1
    assert parser.session_id and not [entry for entry in entries if entry.kind == "raw"]
    assert parser.tool_counts == {"command": 2}
    assert [entry.text for entry in entries if entry.kind == "tool" and not entry.text.startswith("→")] == [
        "$ printf 'fixed\\\\n' > fix.txt", f"$ {COMMIT}",
    ]  # fmt: skip
    assert parser.tokens == {"input": 3 * 1500, "cache_read": 3 * 500, "output": 3 * 40, "reasoning": 3 * 8}
    assert git(worktree.repo, "log", "-1", "--format=%s", "feature/issue-7") == "Fix #7"
    assert git(worktree.repo, "log", "-1", "--format=%s", "main") == "initial"
    assert (worktree.path / "fix.txt").read_text() == "fixed\n"
    assert "Resolve issue #7 of acme/widgets: Fix the login crash" in api.user_text(requests[0]["body"])
    assert {request["headers"]["authorization"] for request in requests} == {f"Bearer {API_KEY}"}
    assert [request["body"]["model"] for request in requests] == [MODEL] * 3
    assert spec.argv.count("--add-dir") == 2  # the repository's git dir and the worktree's

    # A retry resumes the same thread: the same id comes back and the model sees the history.
    resumed, _, again, resumed_spec, resumed_requests = run_codex(
        worktree, lambda body: api.text("Nothing left to do."), resume=parser.session_id
    )
    assert (again.outcome, again.summary) == (Outcome.SUCCEEDED, "Nothing left to do.")
    assert resumed.session_id == parser.session_id == resumed_spec.agent_session_id
    assert api.turn_of(resumed_requests[0]["body"]) == 2


@needs_cli
def test_a_megabyte_issue_body_reaches_the_model(worktree: Worktree) -> None:
    """Over the 128 KiB one argument may hold: `-` makes Codex read the prompt from stdin, a file in the session dir."""
    body = "Steps to reproduce:\n" + "x" * 1_000_000 + "\nEND-OF-BODY"
    with api.serve(lambda request: api.text("Read it all.")) as server:
        agent = loopback_agent(worktree, server)
        spec = agent.launch(make_context(worktree.path, worktree.repo.parent / "session", body=body))
        assert sum(len(arg) for arg in spec.argv) < 4096
        done = run_spec(spec, timeout=120)
        requests = server.model_requests
    parser = agent.parser()
    feed_all(parser, done.stdout)
    result = parser.finish(done.returncode)
    assert (result.outcome, result.summary) == (Outcome.SUCCEEDED, "Read it all."), done.stderr.decode()[-2000:]
    prompt = api.user_text(requests[0]["body"])
    assert "Resolve issue #7 of acme/widgets: Fix the login crash" in prompt and "END-OF-BODY" in prompt
    assert "<stdin>" not in prompt, "the prompt is read once, not also appended as a stdin block"


@needs_cli
def test_without_its_git_dirs_the_sandbox_refuses_the_commit(worktree: Worktree) -> None:
    """Why CodexAgent adds them: Codex keeps a worktree's git dir read-only under workspace-write.

    The refused command reaches the model but only sometimes the JSON stream (0.169 drops some
    sandbox denials), so this reads what the model was told.
    """
    _, _, result, spec, requests = run_codex(worktree, fix_and_commit, writable_git_dirs=False)
    assert "--add-dir" not in spec.argv
    assert result.outcome is Outcome.SUCCEEDED  # the turn itself completes; only the commit failed
    commit_output = requests[2]["body"]["input"][-1]["output"]
    assert "index.lock': Read-only file system" in commit_output
    assert git(worktree.repo, "log", "-1", "--format=%s", "feature/issue-7") == "initial"


@needs_cli
@pytest.mark.parametrize(
    ("reply", "error_class", "error"),
    [
        (api.error(401, "invalid_api_key", f"Incorrect API key provided: {API_KEY}."), ErrorClass.AUTH,
         "unexpected status 401 Unauthorized: Incorrect API key provided"),
        (api.error(429, "rate_limit_exceeded", "Rate limit reached"), ErrorClass.RATE_LIMITED,
         "exceeded retry limit, last status: 429 Too Many Requests"),
        (api.error(429, "insufficient_quota", "You exceeded your current quota"), ErrorClass.USAGE_LIMIT,
         "Quota exceeded. Check your plan and billing details."),
        (api.error(500, "server_error", "The server had an error"), ErrorClass.OVERLOADED,
         "We\u2019re currently experiencing high demand"),
    ],
    ids=["401", "429", "insufficient_quota", "500"],
)  # fmt: skip
def test_api_errors_fail_with_their_class(worktree: Worktree, reply: api.Reply, error_class: ErrorClass, error: str) -> None:
    """One stream retry (a `Reconnecting... 1/1` notice where Codex retries), no request retries: fast."""
    retries = {"model_providers.loopback.stream_max_retries": "1", "model_providers.loopback.request_max_retries": "0"}
    parser, entries, result, _, requests = run_codex(worktree, lambda body: reply, config=retries)
    assert (result.outcome, result.error_class, result.exit_code) == (Outcome.FAILED, error_class, 1)
    assert result.error.startswith(error)
    assert parser.session_id and parser.progress().phase == "failed"
    assert entries[-1].kind == "result" and entries[-1].text.startswith("failed: ")
    if reply.status in (401, 500):
        assert len(requests) == 2
        assert [entry.text[:19] for entry in entries if entry.kind == "system"][1:] == ["Reconnecting... 1/1"]


@needs_cli
def test_a_model_that_never_answers_is_stalled(worktree: Worktree) -> None:
    """The engine's watchdog: no output for a while mid-turn, so it kills the CLI and reports a stall."""
    with api.serve(lambda body: api.stall()) as server:
        agent = loopback_agent(worktree, server)
        spec = agent.launch(make_context(worktree.path, worktree.repo.parent / "session"))
        lines, exit_code = run_until_quiet(spec, server, quiet_s=2.0)
        assert len(server.model_requests) == 1
    parser = agent.parser()
    feed_all(parser, "\n".join(lines))
    assert parser.session_id and parser.progress().phase != "done"
    result = parser.finish(exit_code, stalled=True)
    assert (result.outcome, result.error_class) == (Outcome.FAILED, ErrorClass.STALLED)
    assert result.error.startswith("stopped producing output before a result")


def run_until_quiet(spec: LaunchSpec, server: api.ResponsesServer, quiet_s: float) -> tuple[list[str], int]:
    """Run the spec; once the model was asked and stdout stayed silent for `quiet_s`, SIGTERM (then SIGKILL) it."""
    with spec_stdin(spec) as stdin:
        process = subprocess.Popen(list(spec.argv), env=spec.env, cwd=spec.cwd, stdin=stdin,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    lines: list[str] = []
    last_output = [time.monotonic()]

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            last_output[0] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not (server.model_requests and time.monotonic() - last_output[0] > quiet_s):
        if process.poll() is not None:
            pytest.fail(f"the CLI exited ({process.returncode}) instead of waiting for the model: {lines}")
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    reader.join(timeout=10)
    return lines, process.returncode


@pytest.mark.parametrize(
    ("message", "error_class"),
    [
        ("unexpected status 401 Unauthorized: Incorrect API key provided: sk-x., url: http://127.0.0.1:1/v1/responses", ErrorClass.AUTH),
        ("exceeded retry limit, last status: 429 Too Many Requests, request id: req_1", ErrorClass.RATE_LIMITED),
        ("Quota exceeded. Check your plan and billing details.", ErrorClass.USAGE_LIMIT),
        ("You\u2019ve hit your usage limit. Try again later.", ErrorClass.USAGE_LIMIT),
        ("We\u2019re currently experiencing high demand, which may cause temporary errors.", ErrorClass.OVERLOADED),
        ("rate limit exceeded: slow down", ErrorClass.RATE_LIMITED),
    ],
)
def test_the_error_texts_codex_prints_are_classified(message: str, error_class: ErrorClass) -> None:
    """What Codex 0.169 printed in `turn.failed` for a 401, a 429, insufficient_quota, usage_limit_reached, a 500 and slow_down."""
    assert classify_codex_error(message) is error_class
