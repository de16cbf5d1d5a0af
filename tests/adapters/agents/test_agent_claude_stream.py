"""ClaudeStreamParser over every real transcript, over synthetic failure streams, and over hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agents_testkit import FIXTURES, feed_all

from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.text.log_text import MAX_ENTRY_CHARS
from waterspider_tui.core.models import ErrorClass, Outcome

SESSION = "d56403a0-0ddb-481d-aef5-769cbb93b4d7"

# file: (exit code the CLI gave, outcome, error class, turns, cost, agent session id)
TRANSCRIPTS = {
    "cli2.1.197-not-logged-in.jsonl": (1, Outcome.FAILED, ErrorClass.AUTH, 1, 0.0, "b0652dee-891b-4aaa-9dd2-8f2168ec25df"),
    "cli2.1.332-api-401.jsonl": (1, Outcome.FAILED, ErrorClass.AUTH, 1, 0.0, "3b8002e2-cfc0-4c9d-a23c-38079c594492"),
    "cli2.1.332-error-max-turns.jsonl": (1, Outcome.FAILED, ErrorClass.MAX_TURNS, 3, 0.0144, "3bbf2a5e-e847-4ef4-a319-66c773edfc44"),
    "cli2.1.332-output-json-verbose.json": (0, Outcome.SUCCEEDED, None, 1, 0.0051, "5813c149-e47c-4db8-8d04-e30ade590c37"),
    "cli2.1.332-partial-messages.jsonl": (0, Outcome.SUCCEEDED, None, 3, 0.0243, "86d90987-7e47-4286-82c1-d62635ef7f70"),
    "cli2.1.332-resume-not-found.jsonl": (1, Outcome.FAILED, ErrorClass.CRASHED, 0, 0.0, "11111111-2222-3333-4444-555555555555"),
    "cli2.1.332-resume.jsonl": (0, Outcome.SUCCEEDED, None, 1, 0.0099, SESSION),  # its own part: total_cost_usd counts the first session too
    "cli2.1.332-sigterm.jsonl": (143, Outcome.FAILED, ErrorClass.CRASHED, 0, 0.0, "d2a16066-ca67-4400-aa6a-69de1305d48b"),
    "cli2.1.332-success-tools.jsonl": (0, Outcome.SUCCEEDED, None, 3, 0.0243, SESSION),
    "gleam-cli2.1.7-basic-query.jsonl": (0, Outcome.SUCCEEDED, None, 1, 0.1354875, "1d1e46f9-35c7-4834-b529-846d5bb82288"),
}


def parse_file(path: Path) -> tuple[ClaudeStreamParser, list]:
    parser = ClaudeStreamParser(clock=lambda: 1000.0)
    return parser, feed_all(parser, path.read_bytes())


def test_every_claude_transcript_has_an_expectation() -> None:
    assert sorted(path.name for path in (FIXTURES / "claude").iterdir()) == sorted(TRANSCRIPTS)


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_transcript_outcome(name: str) -> None:
    exit_code, outcome, error_class, turns, cost, session_id = TRANSCRIPTS[name]
    parser, entries = parse_file(FIXTURES / "claude" / name)
    result = parser.finish(exit_code)
    assert (result.outcome, result.error_class) == (outcome, error_class)
    assert result.turns == turns
    assert result.cost_usd == pytest.approx(cost)
    assert parser.session_id == session_id
    assert result.exit_code == exit_code
    assert not [entry for entry in entries if entry.kind == "raw"]
    assert (result.error == "") == (outcome is Outcome.SUCCEEDED)


def _without_deltas(data: bytes) -> bytes:
    """The stream as a CLI that gives only `total_cost_usd` prints it."""
    lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    return b"".join(json.dumps({k: v for k, v in line.items() if k != "model_usage_since_last_result"}).encode() + b"\n" for line in lines)


@pytest.mark.parametrize("deltas", [True, False], ids=["per-result parts", "running totals only"])
def test_a_resumed_conversations_rounds_in_one_stream_cost_what_they_cost_together(deltas: bool) -> None:
    """A session of two rounds (the second resuming the first, as a gate sends the work back on a CI
    runner) read as one stream: $0.0243 + $0.0099, however the CLI reports it; turns 3 + 1."""
    both = (FIXTURES / "claude" / "cli2.1.332-success-tools.jsonl").read_bytes() + (FIXTURES / "claude" / "cli2.1.332-resume.jsonl").read_bytes()
    parser = ClaudeStreamParser(clock=lambda: 1000.0)
    feed_all(parser, both if deltas else _without_deltas(both))
    result = parser.finish(0)
    assert result.cost_usd == pytest.approx(0.0342) and result.turns == 4
    assert result.cost_counts_resumed is (not deltas)


def test_a_resumed_round_alone_costs_its_own_part_or_says_its_total_counts_the_earlier_one() -> None:
    resumed = (FIXTURES / "claude" / "cli2.1.332-resume.jsonl").read_bytes()
    parser = ClaudeStreamParser()
    feed_all(parser, resumed)
    assert (parser.finish(0).cost_usd, parser.cost_counts_resumed) == (pytest.approx(0.0099), False)
    parser = ClaudeStreamParser()
    feed_all(parser, _without_deltas(resumed))
    assert (parser.finish(0).cost_usd, parser.cost_counts_resumed) == (pytest.approx(0.0342), True)


def test_success_transcript_reads_like_a_log() -> None:
    parser, entries = parse_file(FIXTURES / "claude" / "cli2.1.332-success-tools.jsonl")
    assert [(entry.kind, entry.text) for entry in entries] == [
        ("system", f"session {SESSION} · claude-sonnet-4-5-20250929 · /home/dev/widgets/.worktrees/issue-123"),
        ("text", "I'll create the file."),
        ("tool", "Bash echo hello > hello.txt && cat hello.txt"),
        ("tool", "→ hello"),
        ("tool", "Read hello.txt"),
        ("tool", "→ read 2 lines"),
        ("text", 'Done. Created hello.txt containing "hello".'),
        ("result", 'succeeded (3 turns, 0.7s, $0.0243): Done. Created hello.txt containing "hello".'),
    ]
    assert parser.tool_counts == {"Bash": 1, "Read": 1}
    assert parser.tokens == {"input": 5100, "output": 120, "cache_read": 24000, "cache_write": 0}
    assert parser.final_text == 'Done. Created hello.txt containing "hello".'
    result = parser.finish(0)
    assert result.summary == parser.final_text
    assert result.duration_s == pytest.approx(0.736)


def test_turns_count_distinct_messages_before_the_result() -> None:
    lines = (FIXTURES / "claude" / "cli2.1.332-success-tools.jsonl").read_text().splitlines()
    parser = ClaudeStreamParser()
    for line in lines[:-1]:
        parser.feed(line)
    assert parser.progress().turns == 3  # four assistant lines, three message ids
    assert parser.progress().cost_usd == 0.0
    assert parser.progress().last_activity == "Read hello.txt → read 2 lines"


def test_partial_messages_do_not_duplicate_entries() -> None:
    parser, entries = parse_file(FIXTURES / "claude" / "cli2.1.332-partial-messages.jsonl")
    texts = [entry.text for entry in entries]
    assert texts.count("I'll create the file.") == 1
    assert parser.tool_counts == {"Bash": 1, "Read": 1}


def test_max_turns_error_comes_from_the_errors_list() -> None:
    parser, _ = parse_file(FIXTURES / "claude" / "cli2.1.332-error-max-turns.jsonl")
    assert parser.finish(1).error == "Reached maximum number of turns (2)"
    assert parser.progress().phase == "failed"


def test_sigterm_transcript_says_how_it_ended() -> None:
    parser, _ = parse_file(FIXTURES / "claude" / "cli2.1.332-sigterm.jsonl")
    assert parser.finish(143).error == "ended without a result (killed by SIGTERM (exit 143))"
    assert parser.finish(-15).error_class is ErrorClass.CRASHED


# -- synthetic streams of the documented shapes -----------------------------------------------

def line(**fields: object) -> str:
    return json.dumps({"session_id": "s-1", **fields})


def assistant(message_id: str, *blocks: dict, **extra: object) -> str:
    message = {"id": message_id, "model": extra.pop("model", "claude-x"), "content": list(blocks), "usage": {"input_tokens": 10, "output_tokens": 2}}
    return line(type="assistant", message=message, parent_tool_use_id=None, **extra)


def tool_use(tool_id: str, name: str, **tool_input: object) -> dict:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def tool_result(tool_id: str, content: object, is_error: bool = False, **extra: object) -> str:
    block = {"type": "tool_result", "tool_use_id": tool_id, "content": content, "is_error": is_error}
    return line(type="user", message={"role": "user", "content": [block]}, **extra)


def result(**fields: object) -> str:
    base = {"type": "result", "subtype": "success", "is_error": False, "num_turns": 2, "duration_ms": 1500, "total_cost_usd": 0.5, "result": "ok"}
    return line(**{**base, **fields})


INIT = line(type="system", subtype="init", cwd="/work/wt", model="claude-x", tools=["Bash"])


def run(*lines: str, exit_code: int | None = 1, **flags: bool) -> tuple[ClaudeStreamParser, object]:
    parser = ClaudeStreamParser()
    for text in lines:
        parser.feed(text)
    return parser, parser.finish(exit_code, **flags)


def retry(error: str, status: int) -> str:
    return line(type="system", subtype="api_retry", attempt=1, max_retries=2, retry_delay_ms=500, error_status=status, error=error)


def synthetic(error: str, status: int | None) -> str:
    block = {"type": "text", "text": f"API Error: {status}"}
    return assistant("e-1", block, model="<synthetic>", error=error, is_api_error_message=True, api_error_status=status)


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ([retry("overloaded", 529), synthetic("server_error", 529), result(is_error=True, api_error_status=529, terminal_reason="api_error")], ErrorClass.OVERLOADED),
        ([retry("server_error", 500), result(is_error=True, api_error_status=None, terminal_reason="api_error")], ErrorClass.OVERLOADED),
        ([synthetic("rate_limit", 429), result(is_error=True, api_error_status=429)], ErrorClass.RATE_LIMITED),
        ([result(is_error=True, subtype="error_max_budget_usd", terminal_reason="budget_exhausted", errors=["Reached maximum budget ($0.5)"])], ErrorClass.BUDGET),
        ([synthetic("invalid_request", 400), result(is_error=True, api_error_status=400, terminal_reason="prompt_too_long")], ErrorClass.PROMPT_TOO_LONG),
        ([result(is_error=True, permission_denials=[{"tool_name": "Bash"}])], ErrorClass.PERMISSION_DENIED),
        ([line(type="system", subtype="permission_denied", tool_name="Bash", message="no"), result(is_error=True)], ErrorClass.PERMISSION_DENIED),
        ([result(subtype="error_max_turns", is_error=True, api_error_status=529, terminal_reason="max_turns")], ErrorClass.MAX_TURNS),
        ([synthetic("billing_error", 400), result(is_error=True)], ErrorClass.USAGE_LIMIT),
        ([result(is_error=True)], ErrorClass.CRASHED),
        ([result(is_error="yes")], ErrorClass.BAD_OUTPUT),
        ([result(subtype="error_max_structured_output_retries", is_error=True)], ErrorClass.BAD_OUTPUT),
    ],
)
def test_failures_are_classified_by_structured_fields(stream: list[str], expected: ErrorClass) -> None:
    _, session = run(INIT, *stream)
    assert session.outcome is Outcome.FAILED
    assert session.error_class is expected


def test_a_usage_limit_carries_its_reset_time() -> None:
    limit = line(type="rate_limit_event", rate_limit_info={"status": "rejected", "resetsAt": 1_900_000_000, "rateLimitType": "five_hour"})
    _, session = run(INIT, limit, synthetic("rate_limit", 429), result(is_error=True, api_error_status=429))
    assert session.error_class is ErrorClass.USAGE_LIMIT
    assert session.retry_at == 1_900_000_000
    _, in_millis = run(INIT, limit.replace("1900000000", "1900000000000"), result(is_error=True))
    assert in_millis.retry_at == 1_900_000_000


def test_success_needs_is_error_false() -> None:
    _, session = run(INIT, result(), exit_code=0)
    assert session.outcome is Outcome.SUCCEEDED and session.error_class is None
    _, session = run(INIT, result(is_error=True, result="Not logged in"), exit_code=0)
    assert session.outcome is Outcome.FAILED


def test_a_success_result_survives_a_kill_after_it() -> None:
    """The CLI sometimes hangs after `result`; the executor kills it and the session still succeeded."""
    _, session = run(INIT, result(), exit_code=-15, stalled=True)
    assert session.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize(
    ("exit_code", "flags", "expected"),
    [
        (0, {}, ErrorClass.CRASHED),  # SIGINT: exit 0 and no result
        (143, {}, ErrorClass.CRASHED),
        (1, {}, ErrorClass.CRASHED),
        (None, {"stalled": True}, ErrorClass.STALLED),
        (-9, {"timed_out": True}, ErrorClass.TIMEOUT),
        (127, {}, ErrorClass.AGENT_NOT_FOUND),
    ],
)
def test_no_result_is_a_failure(exit_code: int | None, flags: dict, expected: ErrorClass) -> None:
    _, session = run(INIT, assistant("m-1", {"type": "text", "text": "working"}), exit_code=exit_code, **flags)
    assert session.outcome is Outcome.FAILED
    assert session.error_class is expected


def test_silence_with_exit_zero_is_bad_output() -> None:
    _, session = run("Usage: claude [options]", exit_code=0)
    assert session.error_class is ErrorClass.BAD_OUTPUT


def test_the_last_result_wins() -> None:
    _, session = run(INIT, result(is_error=True, total_cost_usd=0.2), result(total_cost_usd=0.7), exit_code=0)
    assert session.outcome is Outcome.SUCCEEDED
    assert session.cost_usd == pytest.approx(0.7)


def test_tool_results_fold_to_one_line_and_errors_show_as_errors() -> None:
    parser = ClaudeStreamParser()
    parser.feed(INIT)
    assert parser.feed(assistant("m-1", tool_use("t-1", "Bash", command="pytest -q"))) == [_entry("tool", "Bash pytest -q")]
    output = "".join(f"test_{index} PASSED\n" for index in range(30)) + "\n14 passed in 0.3s\n"
    details = {"stdout": output, "stderr": "", "interrupted": False}
    assert parser.feed(tool_result("t-1", output, tool_use_result=details)) == [_entry("tool", "→ 14 passed in 0.3s  (31 lines)")]
    assert parser.progress().last_activity == "Bash pytest -q → 14 passed in 0.3s  (31 lines)"
    parser.feed(assistant("m-2", tool_use("t-2", "Read", file_path="/work/wt/missing.py")))
    entries = parser.feed(tool_result("t-2", "<tool_use_error>File does not exist.</tool_use_error>", is_error=True))
    assert entries == [_entry("error", "→ error: <tool_use_error>File does not exist.</tool_use_error>")]


def _entry(kind: str, text: str):
    from waterspider_tui.adapters.agents.base import LogEntry

    return LogEntry(kind, text)


# -- progress ---------------------------------------------------------------------------------

def test_phases_follow_tool_use_and_never_go_back() -> None:
    parser = ClaudeStreamParser()
    parser.feed(INIT)
    steps = [
        (tool_use("a", "Grep", pattern="login"), "analysing", 0, "Grep login"),
        (tool_use("b", "Edit", file_path="/work/wt/src/x.py", old_string="a\n", new_string="b\nc\n"), "implementing", 1, "Edit src/x.py (+2 −1)"),
        (tool_use("c", "Bash", command="python -m pytest -q tests"), "testing", 2, "Bash python -m pytest -q tests"),
        (tool_use("d", "Bash", command="git add -A && git commit -m 'Fix #7'"), "committing", 3, "Bash git add -A && git commit -m 'Fix #7'"),
        (tool_use("e", "Read", file_path="/work/wt/README.md"), "analysing", 3, "Read README.md"),
    ]
    for index, (block, phase, done, activity) in enumerate(steps):
        parser.feed(assistant(f"m-{index}", block))
        progress = parser.progress()
        assert (progress.phase, progress.phases_done, progress.phases_total) == (phase, done, 4)
        assert progress.last_activity == activity
    parser.feed(result())
    assert (parser.progress().phase, parser.progress().phases_done) == ("done", 4)


def test_the_agents_own_todo_list_wins_over_phases() -> None:
    parser = ClaudeStreamParser()
    todos = [
        {"content": "Reproduce the crash", "status": "completed", "activeForm": "Reproducing"},
        {"content": "Fix empty passwords", "status": "in_progress", "activeForm": "Fixing"},
        {"content": "Add a regression test", "status": "pending", "activeForm": "Adding"},
    ]
    entries = parser.feed(assistant("m-1", tool_use("t-1", "TodoWrite", todos=todos)))
    assert entries[0].text == "TodoWrite 1/3 done · now: Fix empty passwords"
    parser.feed(assistant("m-2", tool_use("t-2", "Edit", file_path="x.py", old_string="a", new_string="b")))
    progress = parser.progress()
    assert progress.todos == (("Reproduce the crash", "completed"), ("Fix empty passwords", "in_progress"), ("Add a regression test", "pending"))
    assert (progress.phase, progress.phases_done, progress.phases_total) == ("Fix empty passwords", 1, 3)


def test_task_create_and_update_build_a_todo_list() -> None:
    parser = ClaudeStreamParser()
    parser.feed(assistant("m-1", tool_use("t-1", "TaskCreate", subject="Write the fix", description="…"),
                          tool_use("t-2", "TaskCreate", subject="Run the tests", description="…")))  # fmt: skip
    parser.feed(assistant("m-2", tool_use("t-3", "TaskUpdate", taskId="1", status="completed")))
    parser.feed(assistant("m-3", tool_use("t-4", "TaskUpdate", taskId="2", status="in_progress")))
    progress = parser.progress()
    assert progress.todos == (("Write the fix", "completed"), ("Run the tests", "in_progress"))
    assert (progress.phase, progress.phases_done, progress.phases_total) == ("Run the tests", 1, 2)


def test_last_output_time_comes_from_the_clock() -> None:
    ticks = iter([10.0, 12.5])
    parser = ClaudeStreamParser(clock=lambda: next(ticks))
    parser.feed(INIT)
    parser.feed("not json")
    assert parser.progress().last_output_at == 12.5


# -- hostile input ----------------------------------------------------------------------------

def test_garbage_becomes_raw_entries_and_never_raises() -> None:
    parser = ClaudeStreamParser()
    hostile = [
        "",
        "   ",
        "⚠ Claude Sonnet 4.5 will be retired on November 30, 2026",
        '{"type":"assistant","message":{"id":"m',  # truncated
        bytes(range(256)).decode("utf-8", "surrogateescape"),
        "\x1b[31mred\x1b[0m",
        "42",
        "null",
        '"a string"',
        "[1, 2, 3]",
        "[" * 100_000 + "]" * 100_000,
        '{"type": "brand_new_type", "x": 1}',
        '{"type": "system", "subtype": "brand_new_subtype"}',
        '{"no_type": true}',
        '{"type": 7}',
        '{"type": "assistant", "message": "not an object"}',
        '{"type": "assistant", "message": {"content": [1, "x", null, {"type": "tool_use", "input": "not a dict"}]}}',
        '{"type": "user", "message": {"content": [{"type": "tool_result", "content": {"odd": 1}}]}}',
        '{"type": "user", "message": {"content": 5}}',
        '{"type": "rate_limit_event", "rate_limit_info": "nope"}',
        '{"type": "system", "subtype": "api_retry", "attempt": "one", "error_status": "x"}',
    ]
    for text in hostile:
        entries = parser.feed(text)
        for entry in entries:
            entry.text.encode("utf-8")  # always writable to a log file
            assert "\x1b" not in entry.text
    assert parser.feed("") == [] and parser.feed("   ") == []
    assert parser.feed("⚠ retiring")[0].kind == "raw"
    assert parser.feed('{"type": "brand_new_type"}')[0].kind == "raw"
    assert parser.feed('{"type": "system", "subtype": "brand_new_subtype"}')[0].kind == "raw"
    assert parser.feed(b"\xff\xfe{binary")[0].kind == "raw"  # type: ignore[arg-type]
    assert parser.feed('{"type":"stream_event","event":{}}') == []
    assert parser.finish(1).error_class is ErrorClass.CRASHED


def test_stderr_interleaved_with_a_successful_stream() -> None:
    parser = ClaudeStreamParser()
    for text in (FIXTURES / "claude" / "cli2.1.332-success-tools.jsonl").read_text().splitlines():
        parser.feed("Warning: no stdin data received in 3s, proceeding without it")
        parser.feed("")
        parser.feed(text)
    assert parser.finish(0).outcome is Outcome.SUCCEEDED


def test_a_truncated_result_line_means_no_result() -> None:
    lines = (FIXTURES / "claude" / "cli2.1.332-success-tools.jsonl").read_text().splitlines()
    parser = ClaudeStreamParser()
    for text in lines[:-1]:
        parser.feed(text)
    assert parser.feed(lines[-1][: len(lines[-1]) // 2])[0].kind == "raw"
    assert parser.finish(0).error_class is ErrorClass.CRASHED


def test_a_ten_megabyte_line_is_capped() -> None:
    parser = ClaudeStreamParser()
    huge = "x" * (10 * 1024 * 1024)
    (entry,) = parser.feed(huge)
    assert entry.kind == "raw" and len(entry.text) <= MAX_ENTRY_CHARS + 16
    (entry,) = parser.feed("{" + huge)
    assert entry.kind == "raw" and len(entry.text) <= MAX_ENTRY_CHARS + 16
    # A valid 10 MB tool result (a big `cat`) is parsed and folded to one line.
    parser.feed(assistant("m-1", tool_use("t-1", "Bash", command="cat big.log")))
    (entry,) = parser.feed(tool_result("t-1", huge + "\nlast line"))
    assert entry == _entry("tool", "→ last line  (many lines)")
    assert len(parser.progress().last_activity) <= 120
