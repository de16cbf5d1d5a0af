"""Reads Claude Code's `-p --output-format stream-json --verbose` output: log entries, progress, result."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.adapters.agents.claude_errors import (
    ErrorSignals,
    classify_result,
    error_message,
    resets_at_seconds,
)
from waterspider_tui.adapters.agents.exit_status import describe_exit, ended_without_result
from waterspider_tui.text.log_text import (
    MAX_ENTRY_CHARS,
    as_text,
    clean,
    dict_of,
    integer,
    load_json,
    number,
    one_line,
    text_lines,
    text_of,
)
from waterspider_tui.adapters.agents.progress_tracking import PHASES, PhaseTracker, TodoList, phase_of_tool
from waterspider_tui.adapters.agents.tool_text import describe_todos, describe_tool_use, fold_tool_result
from waterspider_tui.core.models import ErrorClass, Outcome, Progress, SessionResult

_QUIET_SYSTEM_SUBTYPES = {
    "hook_started", "hook_progress", "session_state_changed", "files_persisted", "thinking_tokens",
    "commands_changed", "background_tasks_changed", "memory_recall", "control_request_progress",
    "plugin_install", "elicitation_complete",
}  # fmt: skip
"""Known system messages that say nothing an operator needs; unknown ones are shown raw."""

_QUIET_TYPES = {"stream_event", "keep_alive", "control_request", "control_response", "control_cancel_request",
                "prompt_suggestion", "tool_use_summary", "auth_status", "conversation_reset"}  # fmt: skip
"""Known message types with nothing for the log (token deltas with --include-partial-messages…)."""


INTERRUPTED_MARK = "[Request interrupted by user"
"""How Claude Code's last user turn starts when SIGINT stopped it (also `… for tool use]`)."""


def _raw(line: str) -> list[LogEntry]:
    return [LogEntry("raw", clean(line))] if line.strip() else []


class ClaudeStreamParser:
    """A StreamParser for Claude Code's stream-json; it never raises on bad input.

    Outcome comes from the stream, not the exit code: success needs a final `result` with
    `is_error: false`. Extra views for the CLI and reports: `session_id`, `model`, `final_text`,
    `tool_counts`, `tokens`.
    """

    agent_kind = "claude"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.session_id = ""
        self.model = ""
        self.cwd = ""
        self.final_text = ""
        """The result's `result` text (the agent's last words), else its last top-level text."""
        self.result: dict[str, Any] | None = None
        """The last `result` message; the stream-json input mode can print several."""
        self._signals = ErrorSignals()
        self._tool_counts: Counter[str] = Counter()
        self._tool_calls: dict[str, str] = {}
        self._message_ids: set[str] = set()
        self._streamed_tokens: Counter[str] = Counter()
        self._todos = TodoList()
        self._phases = PhaseTracker()
        self._last_activity = ""
        self._first_output_at = 0.0
        self._last_output_at = 0.0
        self._saw_events = False
        self._spent_usd = 0.0
        """What the results of this stream cost by themselves (see `cost_usd`)."""
        self._last_total: tuple[str, float] | None = None
        """(session id, total_cost_usd) of the last result: a later total of the same conversation counts it too."""
        self._saw_delta = False
        self._turns_before = 0
        """Turns of the processes before the current one in this stream (rounds one after another)."""
        self._process_turns: int | None = None
        self.interrupted = False
        """The CLI was stopped by SIGINT: its last message is the user turn `[Request interrupted by user]`."""

    # -- StreamParser -------------------------------------------------------------------------

    def feed(self, line: str) -> list[LogEntry]:
        """Take one stdout line; blank lines give nothing, anything unreadable a `raw` entry."""
        line = as_text(line)
        self._last_output_at = self._clock()
        self._first_output_at = self._first_output_at or self._last_output_at
        try:
            value = load_json(line)
            if isinstance(value, list):  # `--output-format json --verbose` prints one array
                return [entry for item in value if isinstance(item, dict) for entry in self._event(item, "")]
            if not isinstance(value, dict):
                return _raw(line)
            return self._event(value, line)
        except Exception:  # noqa: BLE001 - a shape we did not foresee must not stop the session's log
            return _raw(line)

    def progress(self) -> Progress:
        """Todo list when the agent keeps one, else phases from tool use; turns and cost so far."""
        if self._todos:
            phase, done, total = self._todos.current, self._todos.done, len(self._todos.items)
        else:
            phase, done, total = self._phases.current, self._phases.done, len(PHASES)
        if self.result is not None:
            succeeded = classify_result(self.result, self._signals) is None
            phase = "done" if succeeded else "failed"
            done = total if succeeded and not self._todos else done
        return Progress(
            phase=phase,
            phases_done=done,
            phases_total=total,
            turns=self.turns,
            cost_usd=self.cost_usd,
            last_activity=self._last_activity,
            last_output_at=self._last_output_at,
            todos=self._todos.items,
        )

    def finish(self, exit_code: int | None, *, stalled: bool = False, timed_out: bool = False) -> SessionResult:
        """The result: a successful `result` line wins even if we killed a process hung after it."""
        error_class: ErrorClass | None
        if self.result is None and self.interrupted and not (stalled or timed_out):
            error_class, error = ErrorClass.INTERRUPTED, f"interrupted before a result ({describe_exit(exit_code)})"
        elif self.result is None:
            error_class, error = ended_without_result(
                exit_code, stalled=stalled, timed_out=timed_out, saw_events=self._saw_events
            )
        else:
            error_class = classify_result(self.result, self._signals)
            error = error_message(self.result) if error_class else ""
            error = error or (f"failed: {error_class.value}" if error_class else "")
        limited = error_class in (ErrorClass.RATE_LIMITED, ErrorClass.USAGE_LIMIT)
        return SessionResult(
            outcome=Outcome.FAILED if error_class else Outcome.SUCCEEDED,
            error_class=error_class,
            error=error,
            summary=clean(self.final_text, 4000),
            turns=self.turns,
            cost_usd=self.cost_usd,
            cost_counts_resumed=self.cost_counts_resumed,
            duration_s=self.duration_s,
            exit_code=exit_code,
            retry_at=self._signals.resets_at if limited else None,
        )

    # -- views --------------------------------------------------------------------------------

    @property
    def saw_end(self) -> bool:
        """Whether the stream reached its final `result` (else it is still running, or was cut)."""
        return self.result is not None

    @property
    def turns(self) -> int:
        """`num_turns` from each process's last result, added up; before any, distinct top-level assistant message ids."""
        if self.result is not None and (self._process_turns is not None or self._turns_before):
            return self._turns_before + (self._process_turns or 0)
        return len(self._message_ids)

    @property
    def cost_usd(self) -> float:
        """What this stream's sessions cost by themselves; 0 before a result.

        `total_cost_usd` is a running total of the conversation: a second result of a process, or
        the first of a process resuming the conversation (`--resume`), counts what came before too.
        Each result's `model_usage_since_last_result` is its own part, added up where the CLI gives
        it; otherwise a total is counted less the one before it in the same conversation.
        """
        return self._spent_usd

    @property
    def cost_counts_resumed(self) -> bool:
        """Whether `cost_usd` rests on running totals alone (no per-result part was given): the
        first total of a resumed conversation then counts its earlier sessions too."""
        return self.result is not None and not self._saw_delta

    def _count_cost(self, event: dict[str, Any]) -> None:
        total = number(event.get("total_cost_usd"))
        since_last = event.get("model_usage_since_last_result")
        if isinstance(since_last, dict):
            self._saw_delta = True
            self._spent_usd += sum(number(dict_of(usage).get("costUSD")) for usage in since_last.values())
        elif self._last_total is not None and self._last_total[0] == self.session_id and total >= self._last_total[1]:
            self._spent_usd += total - self._last_total[1]
        else:
            self._spent_usd += total
        self._last_total = (self.session_id, total)

    @property
    def duration_s(self) -> float:
        if self.result is not None and "duration_ms" in self.result:
            return number(self.result.get("duration_ms")) / 1000
        return max(self._last_output_at - self._first_output_at, 0.0)

    @property
    def tool_counts(self) -> dict[str, int]:
        """Tool calls by tool name, most used first."""
        return dict(self._tool_counts.most_common())

    @property
    def tokens(self) -> dict[str, int]:
        """Tokens from the result's usage; before it, what the assistant messages reported."""
        usage = self.result.get("usage") if self.result else None
        if not isinstance(usage, dict):
            return dict(self._streamed_tokens)
        return {
            "input": integer(usage.get("input_tokens")),
            "output": integer(usage.get("output_tokens")),
            "cache_read": integer(usage.get("cache_read_input_tokens")),
            "cache_write": integer(usage.get("cache_creation_input_tokens")),
        }

    # -- one message --------------------------------------------------------------------------

    def _event(self, event: dict[str, Any], line: str) -> list[LogEntry]:
        handler = {
            "system": self._on_system,
            "assistant": self._on_assistant,
            "user": self._on_user,
            "result": self._on_result,
            "rate_limit_event": self._on_rate_limit,
            "tool_progress": self._on_tool_progress,
        }.get(text_of(event.get("type")))
        if handler is None:
            known = event.get("type") in _QUIET_TYPES
            self._saw_events = self._saw_events or known
            return [] if known else _raw(line)
        self._saw_events = True
        self.session_id = text_of(event.get("session_id")) or self.session_id
        entries = handler(event)
        if entries is None:  # a subtype this parser does not know yet
            return _raw(line or json.dumps(event)[:MAX_ENTRY_CHARS])
        return entries

    def _on_system(self, event: dict[str, Any]) -> list[LogEntry] | None:
        subtype = text_of(event.get("subtype"))
        if subtype == "init":
            # A new process: the rounds of a session that ran elsewhere follow each other in one stream.
            self._turns_before += self._process_turns or 0
            self._process_turns = None
            self.model = text_of(event.get("model")) or self.model
            self.cwd = text_of(event.get("cwd")) or self.cwd
            self._last_activity = "started"
            return [LogEntry("system", f"session {self.session_id} · {self.model} · {self.cwd}")]
        if subtype == "api_retry":
            self._signals.retry_error = text_of(event.get("error"))
            self._signals.retry_status = integer(event.get("error_status"))
            attempt = f"{integer(event.get('attempt'))}/{integer(event.get('max_retries'))}"
            self._last_activity = f"retrying the API ({attempt})"
            status = self._signals.retry_status or "no status"
            return [LogEntry("system", f"API retry {attempt}: {self._signals.retry_error or 'error'} ({status})")]
        if subtype == "permission_denied":
            self._signals.permission_denials += 1
            why = one_line(text_of(event.get("message")), 100)
            return [LogEntry("error", f"permission denied: {text_of(event.get('tool_name'))} {why}".rstrip())]
        if subtype == "status":
            return [LogEntry("system", "compacting the context")] if event.get("status") == "compacting" else []
        if subtype == "compact_boundary":
            return [LogEntry("system", "context compacted")]
        if subtype == "session_writes_lost":
            return [LogEntry("error", "the agent could not save its session (disk full?)")]
        if subtype == "hook_response":
            outcome = text_of(event.get("outcome"))
            kind = "error" if outcome == "error" else "system"
            return [LogEntry(kind, f"hook {text_of(event.get('hook_name'))}: {outcome}")]
        if subtype.startswith("task_"):
            what = one_line(text_of(event.get("description")) or text_of(event.get("status")), 100)
            return [LogEntry("system", f"subagent {subtype[5:]}: {what}".rstrip(": "))]
        return [] if subtype in _QUIET_SYSTEM_SUBTYPES else None

    def _on_assistant(self, event: dict[str, Any]) -> list[LogEntry]:
        message = dict_of(event.get("message"))
        nested = bool(event.get("parent_tool_use_id"))
        synthetic = message.get("model") == "<synthetic>" or bool(event.get("is_api_error_message"))
        api_error = text_of(event.get("error"))
        if api_error:
            self._signals.assistant_error = api_error
        message_id = text_of(message.get("id"))
        if message_id and not synthetic and not nested and message_id not in self._message_ids:
            self._message_ids.add(message_id)
            self._count_tokens(message.get("usage"))
        entries: list[LogEntry] = []
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text = text_of(block.get("text"))
                if not nested and not synthetic:
                    self.final_text = text[:MAX_ENTRY_CHARS] if text.strip() else self.final_text
                kind = "error" if synthetic or api_error else "text"
                entries += [LogEntry(kind, ("↳ " if nested else "") + line) for line in text_lines(text)]
            elif block.get("type") == "tool_use":
                entries.append(self._on_tool_use(block, nested))
        return entries

    def _on_tool_use(self, block: dict[str, Any], nested: bool) -> LogEntry:
        name = text_of(block.get("name")) or "tool"
        tool_input = block.get("input")
        self._tool_counts[name] += 1
        if self._todos.apply(name, tool_input):
            text = f"{name} {describe_todos(list(self._todos.items))}"
        else:
            text = describe_tool_use(name, tool_input, self.cwd)
            self._phases.see(phase_of_tool(name, tool_input))
        self._tool_calls[text_of(block.get("id"))] = text
        self._last_activity = one_line(text, 80)
        return LogEntry("tool", ("↳ " if nested else "") + text)

    def _on_user(self, event: dict[str, Any]) -> list[LogEntry]:
        message = dict_of(event.get("message"))
        content = message.get("content")
        if isinstance(content, str):
            if content.startswith(INTERRUPTED_MARK):
                return self._on_interrupted()
            return [LogEntry("system", f"prompt: {one_line(content, 100)}")]
        blocks = [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
        results = [block for block in blocks if block.get("type") == "tool_result"]
        # `tool_use_result` is per message; it only describes the result when there is one.
        details = event.get("tool_use_result") if len(results) == 1 else None
        entries = []
        for block in results:
            failed = block.get("is_error") is True
            folded = fold_tool_result(block.get("content"), None if failed else details)
            call = self._tool_calls.pop(text_of(block.get("tool_use_id")), "")
            if call:
                self._last_activity = one_line(f"{call} → {folded}", 100)
            entries.append(LogEntry("error" if failed else "tool", f"→ {'error: ' if failed else ''}{folded}"))
        for block in blocks:
            if block.get("type") != "text":
                continue
            text = text_of(block.get("text"))
            entries += self._on_interrupted() if text.startswith(INTERRUPTED_MARK) else [LogEntry("system", one_line(text, 120))]
        return entries

    def _on_interrupted(self) -> list[LogEntry]:
        self.interrupted = True
        self._last_activity = "interrupted"
        return [LogEntry("error", "interrupted: the agent was stopped (Ctrl-C or SIGINT) before it finished")]

    def _on_result(self, event: dict[str, Any]) -> list[LogEntry]:
        self.result = event
        self._count_cost(event)
        if "num_turns" in event:
            self._process_turns = integer(event.get("num_turns"))
        text = text_of(event.get("result"))
        self.final_text = text[:MAX_ENTRY_CHARS] if text else self.final_text
        error_class = classify_result(event, self._signals)
        spent = f"{self.turns} turns, {self.duration_s:.1f}s, ${self.cost_usd:.4f}"
        if error_class is None:
            self._last_activity = "finished"
            return [LogEntry("result", f"succeeded ({spent}): {one_line(self.final_text, 100)}".rstrip(": "))]
        self._last_activity = f"failed: {error_class.value}"
        why = one_line(error_message(event), 120)
        return [LogEntry("result", f"failed, {error_class.value} ({spent}): {why}".rstrip(": "))]

    def _on_rate_limit(self, event: dict[str, Any]) -> list[LogEntry]:
        info = dict_of(event.get("rate_limit_info"))
        status = text_of(info.get("status"))
        window = text_of(info.get("rateLimitType")) or "limit"
        resets_at = resets_at_seconds(info.get("resetsAt"))
        resets = time.strftime(" until %Y-%m-%d %H:%M UTC", time.gmtime(resets_at)) if resets_at else ""
        if status == "rejected":
            self._signals.limit_rejected = window
            self._signals.resets_at = resets_at or self._signals.resets_at
            return [LogEntry("error", f"usage limit reached ({window}){resets}")]
        if status == "allowed_warning":
            used = number(info.get("utilization"), -1)
            share = f" at {used * 100 if used <= 1 else used:.0f}%" if used >= 0 else ""
            return [LogEntry("system", f"usage warning: {window}{share}")]
        return []

    def _on_tool_progress(self, event: dict[str, Any]) -> list[LogEntry]:
        elapsed = number(event.get("elapsed_time_seconds"))
        self._last_activity = f"{text_of(event.get('tool_name')) or 'tool'} running {elapsed:.0f}s"
        return []

    def _count_tokens(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self._streamed_tokens["input"] += integer(usage.get("input_tokens"))
            self._streamed_tokens["output"] += integer(usage.get("output_tokens"))
            self._streamed_tokens["cache_read"] += integer(usage.get("cache_read_input_tokens"))
            self._streamed_tokens["cache_write"] += integer(usage.get("cache_creation_input_tokens"))
