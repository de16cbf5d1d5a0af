"""Agents by kind from config, and `log summarize` over real and simulated logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agents_testkit import FIXTURES

from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.claude import ClaudeAgent
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.codex import CodexAgent
from waterspider_tui.adapters.agents.codex_stream import CodexStreamParser
from waterspider_tui.adapters.agents.command import CommandAgent, CommandStreamParser
from waterspider_tui.adapters.agents.registry import make_agent, parser_for
from waterspider_tui.adapters.agents.simulated import SimulatedAgent
from waterspider_tui.adapters.agents.summarize import detect_agent_kind, format_summary, summarize_log


def test_make_agent_by_kind() -> None:
    policy = EnvPolicy()
    simulated = make_agent("simulated", {"duration_s": 0.5, "fail_rate": 0.2, "seed": 4}, policy)
    assert isinstance(simulated, SimulatedAgent) and simulated.options.fail_rate == 0.2
    claude = make_agent("claude", {"model": "opus", "allowed_tools": ["Edit", "Read"]}, policy)
    assert isinstance(claude, ClaudeAgent) and claude.options.allowed_tools == ("Edit", "Read")
    assert isinstance(make_agent("codex", None, policy), CodexAgent)
    command = make_agent("command", {"argv": ["./agent.sh", "{number}"]}, policy)
    assert isinstance(command, CommandAgent) and command.argv_template == ("./agent.sh", "{number}")
    assert {agent.name for agent in (simulated, claude, command)} == {"simulated", "claude", "command"}


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("gemini", {}, "unknown agent kind 'gemini'; choose one of: simulated, command, claude, codex"),
        ("claude", {"max_turn": 3}, "claude agent: unknown option max_turn (did you mean max_turns?)"),
        ("command", {}, "command agent:"),
        ("simulated", {"fail_mode": "explode"}, "fail_mode must be one of"),
    ],
)
def test_make_agent_errors_are_clear(kind: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        make_agent(kind, options, EnvPolicy())
    assert message in str(caught.value)


def test_parser_for_kind() -> None:
    assert isinstance(parser_for("claude"), ClaudeStreamParser)
    assert isinstance(parser_for("simulated"), ClaudeStreamParser)
    assert isinstance(parser_for("codex"), CodexStreamParser)
    assert isinstance(parser_for("command"), CommandStreamParser)
    with pytest.raises(ValueError, match="unknown agent kind"):
        parser_for("aider")


def test_summary_of_a_failed_claude_log() -> None:
    summary = summarize_log(str(FIXTURES / "claude" / "cli2.1.332-error-max-turns.jsonl"))
    assert summary["agent"] == "claude"
    assert (summary["outcome"], summary["error_class"]) == ("failed", "max_turns")
    assert summary["error"] == "Reached maximum number of turns (2)"
    assert summary["turns"] == 3 and summary["tool_counts"] == {"Bash": 2}
    assert summary["cost_usd"] == pytest.approx(0.0144)
    assert summary["session_id"] == "3bbf2a5e-e847-4ef4-a319-66c773edfc44"
    json.dumps(summary)  # the CLI prints it with --json
    text = format_summary(summary)
    assert "outcome     failed: max_turns" in text
    assert "tools       Bash 2" in text and "cost        $0.0144" in text


def test_summary_of_the_json_array_format_and_of_codex() -> None:
    array = summarize_log(str(FIXTURES / "claude" / "cli2.1.332-output-json-verbose.json"))
    assert (array["agent"], array["outcome"], array["final_text"]) == ("claude", "succeeded", "Hello from the mock model.")
    codex = summarize_log(str(FIXTURES / "codex" / "codex0.169.0-e401.jsonl"))
    assert (codex["agent"], codex["outcome"], codex["error_class"]) == ("codex", "failed", "auth")


def test_a_log_without_its_end_is_unfinished_unless_the_exit_code_is_known() -> None:
    path = str(FIXTURES / "claude" / "cli2.1.332-sigterm.jsonl")
    assert summarize_log(path)["outcome"] == "unfinished"
    ended = summarize_log(path, "claude", exit_code=143)
    assert (ended["outcome"], ended["error_class"]) == ("failed", "crashed")


def test_summary_of_a_pretty_printed_array_and_a_plain_log(tmp_path: Path) -> None:
    items = json.loads((FIXTURES / "claude" / "cli2.1.332-output-json-verbose.json").read_text())
    pretty = tmp_path / "execution.json"
    pretty.write_text(json.dumps(items, indent=2))
    assert summarize_log(str(pretty))["outcome"] == "succeeded"
    plain = tmp_path / "stdout.log"
    plain.write_bytes(b"reading\n\xff\xfe binary\nrunning tests\n")
    summary = summarize_log(str(plain), exit_code=0)
    assert (summary["agent"], summary["outcome"], summary["phase"]) == ("command", "succeeded", "running tests")
    format_summary(summary)


def test_detect_agent_kind() -> None:
    assert detect_agent_kind(["noise", '{"type":"system","subtype":"init"}']) == "claude"
    assert detect_agent_kind(['{"type":"thread.started","thread_id":"t"}']) == "codex"
    assert detect_agent_kind(["hello", "world"]) == "command"


def test_format_summary_shows_todos_and_final_text() -> None:
    text = format_summary({
        "agent": "claude", "outcome": "succeeded", "turns": 4, "tool_counts": {"Edit": 2}, "cost_usd": 0.5,
        "tokens": {"input": 1200, "output": 30, "cache_read": 0}, "duration_s": 62.0, "phase": "done",
        "phases_done": 2, "phases_total": 2, "todos": [["Fix it", "completed"], ["Test it", "in_progress"]],
        "final_text": "Fixed.\nAll tests pass.", "session_id": "abc", "model": "opus",
    })  # fmt: skip
    assert text.splitlines() == [
        "agent       claude (abc, opus)",
        "outcome     succeeded",
        "turns       4",
        "tools       Edit 2",
        "cost        $0.5000",
        "tokens      1,200 input · 30 output",
        "duration    62.0 s",
        "phase       done (2/2)",
        "todos       [x] Fix it",
        "            [~] Test it",
        "final       Fixed.",
        "            All tests pass.",
    ]
