"""A Claude Code session stopped by SIGINT: its own class, in the parser and in `log summarize`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.summarize import format_summary, summarize_log
from waterspider_tui.core.advice import ADVICE
from waterspider_tui.core.models import ErrorClass, Outcome

INIT = {"type": "system", "subtype": "init", "session_id": "s-1", "model": "sonnet", "cwd": "/w"}
WORKING = {"type": "assistant", "session_id": "s-1", "message": {"id": "m1", "content": [{"type": "text", "text": "Reading the code."}]}}


def interrupted(text: str, as_blocks: bool = True) -> dict[str, object]:
    content: object = [{"type": "text", "text": text}] if as_blocks else text
    return {"type": "user", "session_id": "s-1", "message": {"role": "user", "content": content}}


@pytest.mark.parametrize("text", ["[Request interrupted by user]", "[Request interrupted by user for tool use]"])
@pytest.mark.parametrize("as_blocks", [True, False])
def test_an_interrupted_stream_is_its_own_class(text: str, as_blocks: bool) -> None:
    parser = ClaudeStreamParser(clock=lambda: 1000.0)
    entries = [entry for line in (INIT, WORKING, interrupted(text, as_blocks)) for entry in parser.feed(json.dumps(line))]
    assert entries[-1].kind == "error" and "interrupted" in entries[-1].text
    result = parser.finish(0)
    assert (result.outcome, result.error_class) == (Outcome.FAILED, ErrorClass.INTERRUPTED)
    assert result.error == "interrupted before a result (exit 0)"
    assert parser.progress().last_activity == "interrupted"


def test_a_stall_or_timeout_still_wins_over_the_interruption() -> None:
    parser = ClaudeStreamParser(clock=lambda: 1000.0)
    for line in (INIT, interrupted("[Request interrupted by user]")):
        parser.feed(json.dumps(line))
    assert parser.finish(None, timed_out=True).error_class is ErrorClass.TIMEOUT


def test_log_summarize_says_it_was_interrupted(tmp_path: Path) -> None:
    log = tmp_path / "stdout.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in (INIT, WORKING, interrupted("[Request interrupted by user]"))))
    summary = summarize_log(log)
    assert (summary["outcome"], summary["error_class"]) == ("failed", "interrupted")
    assert "still running" not in summary["error"]
    assert "outcome     failed: interrupted" in format_summary(summary)


def test_the_interrupted_class_has_advice() -> None:
    assert "interrupted" in ADVICE[ErrorClass.INTERRUPTED].cause
