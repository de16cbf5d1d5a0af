"""CodexStreamParser over every real Codex transcript (0.169 and 0.46 shapes), and CodexAgent's command line."""

from __future__ import annotations

import json

import pytest
from agents_testkit import FIXTURES, feed_all, make_context

from waterspider_tui.adapters.executors.local import write_launch_files
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.codex import CodexAgent, CodexOptions, CodexStreamParser, classify_codex_error
from waterspider_tui.core.models import ErrorClass, Outcome

# file: (exit code, outcome, error class, thread id, tokens, tool counts)
TRANSCRIPTS = {
    "agentcmd-codex0.46.0-stream-output-2.jsonl": (
        0, Outcome.SUCCEEDED, None, "019a2d7a-6455-7170-a661-c6d8b94c630a",
        {"input": 6040, "cache_read": 4992, "output": 129, "reasoning": 0}, {"command": 1},
    ),
    "codex0.169.0-cmd-workspace-write.jsonl": (
        0, Outcome.SUCCEEDED, None, "01a212b5-4446-7251-9104-a5e3a08c01aa",
        {"input": 4200, "cache_read": 2048, "output": 84, "reasoning": 16}, {"command": 1},
    ),
    "codex0.169.0-e401.jsonl": (1, Outcome.FAILED, ErrorClass.AUTH, "01a212b5-4a7a-7653-b90b-ad57a8650bfe", {}, {}),
    "codex0.169.0-patch.jsonl": (
        0, Outcome.SUCCEEDED, None, "01a212b5-47cd-7263-8c1f-ee8e53c9a8df",
        {"input": 4200, "cache_read": 2048, "output": 84, "reasoning": 16}, {"file_change": 1},
    ),
    "codex0.169.0-text.jsonl": (
        0, Outcome.SUCCEEDED, None, "01a212b5-4060-7f40-8248-61a2964a7b1d",
        {"input": 2100, "cache_read": 1024, "output": 42, "reasoning": 8}, {},
    ),
}  # fmt: skip


def test_every_codex_transcript_has_an_expectation() -> None:
    assert sorted(path.name for path in (FIXTURES / "codex").iterdir()) == sorted(TRANSCRIPTS)


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_transcript_outcome(name: str) -> None:
    exit_code, outcome, error_class, thread_id, tokens, tools = TRANSCRIPTS[name]
    parser = CodexStreamParser()
    entries = feed_all(parser, (FIXTURES / "codex" / name).read_bytes())
    result = parser.finish(exit_code)
    assert (result.outcome, result.error_class) == (outcome, error_class)
    assert parser.session_id == thread_id
    assert parser.tokens == tokens
    assert parser.tool_counts == tools
    assert result.turns == 1 and result.cost_usd == 0.0
    assert not [entry for entry in entries if entry.kind == "raw"]


def test_command_transcript_reads_like_a_log() -> None:
    parser = CodexStreamParser()
    entries = feed_all(parser, (FIXTURES / "codex" / "codex0.169.0-cmd-workspace-write.jsonl").read_text())
    assert [(entry.kind, entry.text) for entry in entries] == [
        ("system", "thread 01a212b5-4446-7251-9104-a5e3a08c01aa"),
        ("tool", "$ echo hello > hello.txt && cat hello.txt"),
        ("tool", "→ hello"),
        ("text", "Done: created hello.txt."),
        ("result", "turn completed (4,200 in, 84 out tokens)"),
    ]
    assert parser.final_text == "Done: created hello.txt."
    assert parser.finish(0).summary == "Done: created hello.txt."


def test_401_error_text_is_kept() -> None:
    parser = CodexStreamParser()
    feed_all(parser, (FIXTURES / "codex" / "codex0.169.0-e401.jsonl").read_text())
    assert parser.finish(1).error.startswith("unexpected status 401 Unauthorized")
    assert parser.progress().phase == "failed"


def event(**fields: object) -> str:
    return json.dumps(fields)


def test_progress_from_commands_patches_and_todo_lists() -> None:
    parser = CodexStreamParser()
    parser.feed(event(type="turn.started"))
    parser.feed(event(type="item.started", item={"id": "i1", "type": "command_execution", "command": "/bin/bash -lc 'pytest -q'", "status": "in_progress"}))
    assert parser.progress().phase == "testing"
    entries = parser.feed(event(type="item.completed", item={"id": "i1", "type": "command_execution", "command": "/bin/bash -lc 'pytest -q'",
                                                              "aggregated_output": "F\n1 failed\n", "exit_code": 1, "status": "failed"}))  # fmt: skip
    assert entries[-1].kind == "error" and entries[-1].text.startswith("→ exit 1: 1 failed")
    parser.feed(event(type="item.completed", item={"id": "i2", "type": "todo_list", "items": [{"text": "Fix", "completed": True}, {"text": "Test", "completed": False}]}))
    progress = parser.progress()
    assert progress.todos == (("Fix", "completed"), ("Test", "pending"))
    assert (progress.phase, progress.phases_done, progress.phases_total) == ("Test", 1, 2)
    assert parser.tool_counts == {"command": 1}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("unexpected status 401 Unauthorized: Incorrect API key provided", ErrorClass.AUTH),
        ("unexpected status 429 Too Many Requests", ErrorClass.RATE_LIMITED),
        ("You've hit your usage limit. Try again in 3 hours.", ErrorClass.USAGE_LIMIT),
        ("unexpected status 503 Service Unavailable", ErrorClass.OVERLOADED),
        ("Your input exceeds the context window of this model", ErrorClass.PROMPT_TOO_LONG),
        ("stream disconnected before completion", ErrorClass.CRASHED),
    ],
)
def test_codex_errors_are_classified(message: str, expected: ErrorClass) -> None:
    assert classify_codex_error(message) is expected


def test_no_turn_end_is_a_failure_and_garbage_is_raw() -> None:
    parser = CodexStreamParser()
    parser.feed(event(type="thread.started", thread_id="t"))
    parser.feed(event(type="turn.started"))
    assert parser.feed("Reading additional input from stdin...")[0].kind == "raw"
    assert parser.feed(event(type="item.completed", item={"id": "x", "type": "brand_new"}))[0].kind == "raw"
    assert parser.feed('{"type":"item.completed","item":"nope"}')[0].kind == "raw"
    assert parser.feed("\x00\xff garbage {")[0].kind == "raw"
    assert parser.finish(None, stalled=True).error_class is ErrorClass.STALLED
    assert parser.finish(143).error_class is ErrorClass.CRASHED
    assert parser.finish(127).error_class is ErrorClass.AGENT_NOT_FOUND


def test_a_fatal_error_without_turn_failed_is_classified() -> None:
    parser = CodexStreamParser()
    parser.feed(event(type="turn.started"))
    parser.feed(event(type="error", message="unexpected status 500 Internal Server Error"))
    assert parser.finish(1).error_class is ErrorClass.OVERLOADED


def test_codex_command_line(tmp_path) -> None:
    agent = CodexAgent(CodexOptions(model="gpt-5-codex", config={"model_reasoning_effort": '"high"'}), EnvPolicy())
    spec = agent.launch(make_context(tmp_path, tmp_path / "session"))
    write_launch_files(tmp_path / "session", spec)  # as the executor does where the session runs
    assert spec.argv[:3] == ("codex", "exec", "--json")
    assert spec.argv[3:9] == ("--model", "gpt-5-codex", "--sandbox", "workspace-write", "-c", 'approval_policy="never"')
    assert spec.argv[9:11] == ("-c", 'model_reasoning_effort="high"')
    assert spec.argv[-1] == "-", "the prompt comes on stdin"
    assert (tmp_path / "session" / spec.stdin_file).read_text().startswith("Resolve issue #7 of acme/widgets: Fix the login crash")
    resumed = agent.launch(make_context(tmp_path, tmp_path / "session", resume_agent_session="thread-1", attempt=2))
    assert resumed.argv[-3:] == ("resume", "thread-1", "-")
    assert resumed.files[resumed.stdin_file].startswith("Continue with issue #7")
    assert resumed.agent_session_id == "thread-1"
    bypass = CodexAgent(CodexOptions(dangerously_bypass_approvals_and_sandbox=True), EnvPolicy())
    argv = bypass.launch(make_context(tmp_path, tmp_path / "session")).argv
    assert "--dangerously-bypass-approvals-and-sandbox" in argv and "--sandbox" not in argv


def test_codex_env_passes_its_key_and_not_ours(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    spec = CodexAgent(CodexOptions(), EnvPolicy()).launch(make_context(tmp_path, tmp_path / "session"))
    assert spec.env["OPENAI_API_KEY"] == "sk-test"
    assert "GITHUB_TOKEN" not in spec.env
    assert spec.env["WATERSPIDER_ISSUE_NUMBER"] == "7"
