"""Reads `codex exec --json` events (0.169 and the older 0.46 shape): log entries, progress, result."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.adapters.agents.claude_errors import class_of_status
from waterspider_tui.adapters.agents.exit_status import ended_without_result
from waterspider_tui.text.log_text import (
    MAX_ENTRY_CHARS,
    as_text,
    clean,
    dict_of,
    integer,
    list_of,
    load_json,
    one_line,
    text_lines,
    text_of,
)
from waterspider_tui.adapters.agents.progress_tracking import PHASES, PhaseTracker, TodoList, phase_of_command
from waterspider_tui.adapters.agents.tool_text import fold_tool_result, short_command
from waterspider_tui.core.models import ErrorClass, Outcome, Progress, SessionResult

_STATUS_IN_TEXT = re.compile(r"\bstatus:?\s+(\d{3})\b")
_RETRY_NOTICE = re.compile(r"^Reconnecting\.\.\.\s*(\d+/\d+)")

_USAGE_LIMIT_TEXTS = ("usage limit", "quota exceeded")
_TEXT_CLASSES = (
    (("high demand", "at capacity"), ErrorClass.OVERLOADED),
    (("rate limit",), ErrorClass.RATE_LIMITED),
    (("context window", "context_length_exceeded"), ErrorClass.PROMPT_TOO_LONG),
)
"""What Codex 0.169 prints for API errors it names without a status: run against a stand-in API, a 500
reads "We're currently experiencing high demand…" and a slow_down "rate limit exceeded: …"; the
binary also holds "Selected model is at capacity"."""


def classify_codex_error(message: str) -> ErrorClass:
    """Codex reports errors as text only: a usage limit or spent quota, else the HTTP status in it, else its known texts."""
    lowered = message.lower()
    if any(text in lowered for text in _USAGE_LIMIT_TEXTS):
        return ErrorClass.USAGE_LIMIT
    status = _STATUS_IN_TEXT.search(message)
    found = class_of_status(int(status.group(1))) if status else None
    if found:
        return found
    for texts, error_class in _TEXT_CLASSES:
        if any(text in lowered for text in texts):
            return error_class
    return ErrorClass.CRASHED


class CodexStreamParser:
    """A StreamParser for Codex JSON events. Codex reports tokens, never cost, so cost stays 0."""

    agent_kind = "codex"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.session_id = ""
        self.model = ""
        self.final_text = ""
        self.turn_count = 0
        self._ended: str | None = None
        """"completed" or "failed" after the last turn's end event; None while a turn runs."""
        self._error = ""
        self._tokens: Counter[str] = Counter()
        self._tool_counts: Counter[str] = Counter()
        self._counted_items: set[str] = set()
        self._todos = TodoList()
        self._phases = PhaseTracker()
        self._last_activity = ""
        self._first_output_at = 0.0
        self._last_output_at = 0.0
        self._saw_events = False

    @property
    def saw_end(self) -> bool:
        """Whether the last turn ended (completed or failed)."""
        return self._ended is not None

    @property
    def tool_counts(self) -> dict[str, int]:
        return dict(self._tool_counts.most_common())

    @property
    def tokens(self) -> dict[str, int]:
        """Tokens summed over `turn.completed` usage: input, cache_read, output, reasoning."""
        return dict(self._tokens)

    def feed(self, line: str) -> list[LogEntry]:
        """Take one stdout line; anything that is not a known event becomes a `raw` entry."""
        line = as_text(line)
        self._last_output_at = self._clock()
        self._first_output_at = self._first_output_at or self._last_output_at
        try:
            event = load_json(line)
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                return [LogEntry("raw", clean(line))] if line.strip() else []
            entries = self._event(event)
            return [LogEntry("raw", clean(line))] if entries is None else entries
        except Exception:  # noqa: BLE001 - a shape we did not foresee must not stop the session's log
            return [LogEntry("raw", clean(line))]

    def progress(self) -> Progress:
        if self._todos:
            phase, done, total = self._todos.current, self._todos.done, len(self._todos.items)
        else:
            phase, done, total = self._phases.current, self._phases.done, len(PHASES)
        if self._ended == "completed":
            phase, done = "done", (done if self._todos else total)
        elif self._ended == "failed":
            phase = "failed"
        return Progress(
            phase=phase,
            phases_done=done,
            phases_total=total,
            turns=self.turn_count,
            last_activity=self._last_activity,
            last_output_at=self._last_output_at,
            todos=self._todos.items,
        )

    def finish(self, exit_code: int | None, *, stalled: bool = False, timed_out: bool = False) -> SessionResult:
        """Succeeded when the last turn completed; failed with a class read off the error otherwise."""
        error_class: ErrorClass | None = None
        error = ""
        if self._ended == "failed" or (self._ended is None and self._error and not (stalled or timed_out)):
            error_class, error = classify_codex_error(self._error), clean(self._error, 2000)
        elif self._ended is None:
            error_class, error = ended_without_result(
                exit_code, stalled=stalled, timed_out=timed_out, saw_events=self._saw_events
            )
        return SessionResult(
            outcome=Outcome.FAILED if error_class else Outcome.SUCCEEDED,
            error_class=error_class,
            error=error,
            summary=clean(self.final_text, 4000),
            turns=self.turn_count,
            duration_s=max(self._last_output_at - self._first_output_at, 0.0),
            exit_code=exit_code,
        )

    def _event(self, event: dict[str, Any]) -> list[LogEntry] | None:
        kind = event["type"]
        self._saw_events = True
        if kind == "thread.started":
            self.session_id = text_of(event.get("thread_id")) or self.session_id
            return [LogEntry("system", f"thread {self.session_id}")]
        if kind == "turn.started":
            self.turn_count += 1
            self._ended = None
            self._last_activity = "thinking"
            return []
        if kind == "turn.completed":
            self._ended = "completed"
            usage = dict_of(event.get("usage"))
            self._tokens["input"] += integer(usage.get("input_tokens"))
            self._tokens["cache_read"] += integer(usage.get("cached_input_tokens"))
            self._tokens["output"] += integer(usage.get("output_tokens"))
            self._tokens["reasoning"] += integer(usage.get("reasoning_output_tokens"))
            self._last_activity = "finished"
            used = f"{integer(usage.get('input_tokens')):,} in, {integer(usage.get('output_tokens')):,} out"
            return [LogEntry("result", f"turn completed ({used} tokens)")]
        if kind == "turn.failed":
            self._ended = "failed"
            error = dict_of(event.get("error"))
            self._error = text_of(error.get("message")) or self._error or "turn failed"
            self._last_activity = "failed"
            return [LogEntry("result", f"failed: {one_line(self._error, 150)}")]
        if kind == "error":
            message = text_of(event.get("message"))
            retry = _RETRY_NOTICE.match(message)
            if retry:
                self._last_activity = f"reconnecting ({retry.group(1)})"
                return [LogEntry("system", one_line(message, 150))]
            self._error = message or self._error
            return [LogEntry("error", one_line(message, 200))]
        if kind in ("item.plan.delta", "request_user_input"):
            return []
        if kind.startswith("item."):
            item = event.get("item")
            return self._on_item(kind, item) if isinstance(item, dict) else None
        return None

    def _count(self, item: dict[str, Any], name: str) -> bool:
        """Count a tool item once across its started/updated/completed events; True the first time."""
        item_id = text_of(item.get("id")) or str(id(item))
        if item_id in self._counted_items:
            return False
        self._counted_items.add(item_id)
        self._tool_counts[name] += 1
        return True

    def _on_item(self, kind: str, item: dict[str, Any]) -> list[LogEntry] | None:
        item_type = text_of(item.get("type"))
        done = kind == "item.completed"
        if item_type == "agent_message":
            if not done:
                return []
            self.final_text = text_of(item.get("text"))[:MAX_ENTRY_CHARS] or self.final_text
            return [LogEntry("text", line) for line in text_lines(self.final_text)]
        if item_type in ("reasoning", "plan"):
            thought = one_line(text_of(item.get("text")).replace("**", ""), 120)
            return [LogEntry("system", f"{item_type}: {thought}")] if done and thought else []
        if item_type == "command_execution":
            return self._on_command(item, done)
        if item_type == "file_change":
            changes = list_of(item.get("changes"))
            paths = ", ".join(f"{text_of(c.get('path'))} ({text_of(c.get('kind'))})" for c in changes if isinstance(c, dict))
            self._count(item, "file_change")
            self._phases.see("implementing")
            self._last_activity = one_line(f"edit {paths}", 80)
            if not done:
                return [LogEntry("tool", one_line(f"edit {paths}", 150))]
            failed = text_of(item.get("status")) == "failed"
            return [LogEntry("error" if failed else "tool", "→ patch failed" if failed else "→ applied")]
        if item_type == "mcp_tool_call":
            call = f"mcp {text_of(item.get('server'))}.{text_of(item.get('tool'))}"
            self._count(item, call)
            self._last_activity = call
            if not done:
                return [LogEntry("tool", call)]
            error = item.get("error")
            return [LogEntry("error", f"→ error: {one_line(str(error), 100)}")] if error else [LogEntry("tool", "→ done")]
        if item_type == "web_search":
            self._count(item, "web_search")
            self._phases.see("analysing")
            return [LogEntry("tool", f"web_search {one_line(text_of(item.get('query')), 100)}")] if not done else []
        if item_type == "todo_list":
            items = list_of(item.get("items"))
            todos = [
                {"content": text_of(todo.get("text")), "status": "completed" if todo.get("completed") else "pending"}
                for todo in items
                if isinstance(todo, dict)
            ]
            self._todos.apply("TodoWrite", {"todos": todos})
            return [LogEntry("tool", f"todo list: {self._todos.done}/{len(todos)} done")]
        if item_type == "error":
            return [LogEntry("system", f"warning: {one_line(text_of(item.get('message')), 150)}")]
        return None

    def _on_command(self, item: dict[str, Any], done: bool) -> list[LogEntry]:
        command = short_command(text_of(item.get("command")))
        first_sight = self._count(item, "command")
        self._phases.see(phase_of_command(command))
        call = [LogEntry("tool", one_line(f"$ {command}", 150))] if first_sight else []
        if not done:
            self._last_activity = one_line(f"$ {command}", 80)
            return call
        exit_code = item.get("exit_code")
        failed = text_of(item.get("status")) in ("failed", "declined") or (isinstance(exit_code, int) and exit_code != 0)
        folded = fold_tool_result(text_of(item.get("aggregated_output")))
        self._last_activity = one_line(f"$ {command} → {folded}", 100)
        if failed:
            return [*call, LogEntry("error", f"→ exit {exit_code}: {folded}")]
        return [*call, LogEntry("tool", f"→ {folded}")]
