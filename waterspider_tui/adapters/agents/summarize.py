"""What a session log says, for `waterspider log summarize`: outcome, class, turns, tools, cost, todos."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any

from waterspider_tui.text.log_text import load_json
from waterspider_tui.adapters.agents.registry import parser_for

_CLAUDE_TYPES = {"system", "assistant", "user", "result", "stream_event", "rate_limit_event", "tool_progress"}
_CODEX_TYPES = {"thread.started", "turn.started", "turn.completed", "turn.failed", "item.started", "item.completed"}
_MAX_ARRAY_FILE_BYTES = 64 * 1024 * 1024


def _lines(path: str | os.PathLike[str]) -> Iterator[str]:
    """The file's lines as text, decoded leniently (a log may hold binary garbage)."""
    with open(path, "rb") as log:
        for raw in log:
            yield raw.rstrip(b"\r\n").decode("utf-8", "replace")


def _json_array(path: str | os.PathLike[str]) -> list[Any] | None:
    """The transcript when the file is one JSON array (`--output-format json --verbose`), pretty or not."""
    if os.path.getsize(path) > _MAX_ARRAY_FILE_BYTES:
        return None
    with open(path, "rb") as log:
        if log.read(4096).lstrip()[:1] != b"[":
            return None
        log.seek(0)
        try:
            value = json.loads(log.read().decode("utf-8", "replace"))
        except ValueError:
            return None
    return value if isinstance(value, list) else None


def detect_agent_kind(lines: Iterator[str] | list[str]) -> str:
    """`claude`, `codex` or `command`, from the first event types found in the first 200 lines."""
    for line in islice(iter(lines), 200):
        value = load_json(line)
        items = value if isinstance(value, list) else [value]
        for item in items:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind in _CLAUDE_TYPES:
                return "claude"
            if kind in _CODEX_TYPES:
                return "codex"
    return "command"


def summarize_log(path: str | os.PathLike[str], agent_kind: str | None = None, exit_code: int | None = None) -> dict[str, Any]:
    """Replay a session log through its parser; the agent kind is detected when not given."""
    array = _json_array(path)
    lines: list[str] | Iterator[str] = [json.dumps(item) for item in array] if array is not None else _lines(path)
    if agent_kind is None:
        agent_kind = detect_agent_kind(lines if array is not None else _lines(path))
    parser = parser_for(agent_kind)
    line_count = raw_count = 0
    for line in lines:
        line_count += 1
        raw_count += sum(1 for entry in parser.feed(line) if entry.kind == "raw")
    result = parser.finish(exit_code)
    progress = parser.progress()
    interrupted = bool(getattr(parser, "interrupted", False))
    unfinished = exit_code is None and not getattr(parser, "saw_end", False) and not interrupted
    return {
        "path": str(path),
        "agent": agent_kind,
        "outcome": "unfinished" if unfinished else result.outcome.value,
        "error_class": None if unfinished or result.error_class is None else result.error_class.value,
        "error": "no final result in the log: still running, or cut off" if unfinished else result.error,
        "turns": result.turns or progress.turns,
        "tool_counts": dict(getattr(parser, "tool_counts", {})),
        "cost_usd": result.cost_usd,
        "tokens": dict(getattr(parser, "tokens", {})),
        "duration_s": result.duration_s,
        "session_id": getattr(parser, "session_id", ""),
        "model": getattr(parser, "model", ""),
        "final_text": getattr(parser, "final_text", ""),
        "phase": progress.phase,
        "phases_done": progress.phases_done,
        "phases_total": progress.phases_total,
        "todos": [list(todo) for todo in progress.todos],
        "last_activity": progress.last_activity,
        "retry_at": result.retry_at,
        "exit_code": exit_code,
        "lines": line_count,
        "unreadable_lines": raw_count,
    }


_TODO_MARKS = {"completed": "[x]", "in_progress": "[~]"}


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as aligned `label  value` lines for a terminal."""
    rows: list[tuple[str, str]] = []
    who = ", ".join(part for part in (summary.get("session_id"), summary.get("model")) if part)
    rows.append(("agent", f"{summary.get('agent', '?')}" + (f" ({who})" if who else "")))
    outcome = str(summary.get("outcome", "?"))
    rows.append(("outcome", f"{outcome}: {summary['error_class']}" if summary.get("error_class") else outcome))
    if summary.get("error"):
        rows.append(("error", str(summary["error"])))
    rows.append(("turns", str(summary.get("turns", 0))))
    tools = summary.get("tool_counts") or {}
    rows.append(("tools", ", ".join(f"{name} {count}" for name, count in tools.items()) or "none"))
    if summary.get("cost_usd"):
        rows.append(("cost", f"${summary['cost_usd']:.4f}"))
    tokens = {name: count for name, count in (summary.get("tokens") or {}).items() if count}
    if tokens:
        rows.append(("tokens", " · ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in tokens.items())))
    rows.append(("duration", f"{summary.get('duration_s', 0.0):.1f} s"))
    total = summary.get("phases_total") or 0
    rows.append(("phase", f"{summary.get('phase', '')}" + (f" ({summary.get('phases_done', 0)}/{total})" if total else "")))
    for index, (content, status) in enumerate(summary.get("todos") or []):
        rows.append(("todos" if index == 0 else "", f"{_TODO_MARKS.get(status, '[ ]')} {content}"))
    if summary.get("retry_at"):
        rows.append(("retry at", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(summary["retry_at"]))))
    final = str(summary.get("final_text") or "").strip().splitlines()
    for index, line in enumerate(final[:12]):
        rows.append(("final" if index == 0 else "", line))
    if len(final) > 12:
        rows.append(("", f"… {len(final) - 12} more lines"))
    if summary.get("unreadable_lines"):
        rows.append(("unreadable", f"{summary['unreadable_lines']} of {summary.get('lines', 0)} lines"))
    return "\n".join(f"{label:<10}  {value}".rstrip() for label, value in rows)
