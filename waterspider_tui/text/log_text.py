"""Safe text for the log panel: decode, clean, cap and shorten whatever an agent prints; log
entries as the lines the control center, its pager and `waterspider log show` print."""

from __future__ import annotations

import json
from typing import Any, Iterable

from waterspider_tui.core.models import LogEntry

MAX_ENTRY_CHARS = 64 * 1024
"""The most of one entry we keep; a 10 MB line must not live on in memory or in the UI."""

MAX_JSON_CHARS = 32 * 1024 * 1024
"""Longer lines are not even parsed: real tool outputs reach a few MiB, never this."""

# Control characters would move the terminal cursor or change colours in the log panel.
_CONTROL_CHARS: dict[int, str | None] = {code: "\ufffd" for code in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)}
_CONTROL_CHARS[0x0D] = None
_CONTROL_CHARS[0x09] = "    "


_VISIBLE_CONTROLS: dict[int, str] = {
    code: f"\\x{code:02x}" for code in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))
}
_VISIBLE_CONTROLS.update({code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def visible_controls(line: str) -> str:
    """A raw line for a terminal: every control character (ESC, BEL, C1, bidi overrides) written
    out as `\\x1b` or `\\u202e`, so the line shows what the agent sent and the terminal obeys none of it."""
    return line.removesuffix("\r").translate(_VISIBLE_CONTROLS)  # a CRLF line's CR is its ending, not content


def as_text(line: str | bytes) -> str:
    """A line as text, whatever the caller handed us (bytes decode with replacement)."""
    if isinstance(line, bytes):
        return line.decode("utf-8", "replace")
    return line


def clean(text: str, limit: int = MAX_ENTRY_CHARS) -> str:
    """Text capped at `limit` characters, with control characters and lone surrogates replaced."""
    cut = len(text) > limit
    text = text[:limit]
    # Lone surrogates (from surrogateescape decoding) cannot be written as UTF-8 later.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.translate(_CONTROL_CHARS)
    return text + " …[cut]" if cut else text


def one_line(text: str, width: int = 120) -> str:
    """The first non-blank line of `text`, shortened to `width`, noting how many lines were left."""
    lines = [line for line in text[: width * 40].splitlines() if line.strip()]
    if not lines:
        return ""
    first = clean(lines[0].strip(), width * 4)
    if len(first) > width:
        first = first[: width - 1] + "…"
    more = len(lines) - 1
    return f"{first}  (+{more} lines)" if more > 0 else first


def text_lines(text: str, max_lines: int = 40) -> list[str]:
    """Multi-line text as cleaned single lines (the log panel shows one line per entry)."""
    lines = [clean(line.rstrip()) for line in text[:MAX_ENTRY_CHARS].splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = [*lines[:max_lines], f"… {hidden} more lines"]
    return lines


def load_json(line: str) -> Any:
    """The JSON value on a line, or None when the line is not (complete, sane) JSON."""
    stripped = line.strip()
    if not stripped or stripped[0] not in "{[" or len(stripped) > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


def number(value: Any, default: float = 0.0) -> float:
    """A JSON number as float; anything else (null, strings, bools) gives `default`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def integer(value: Any, default: int = 0) -> int:
    """A JSON number as int; anything else gives `default`."""
    return int(number(value, default))


def text_of(value: Any) -> str:
    """A JSON string, or '' for anything else."""
    return value if isinstance(value, str) else ""


def dict_of(value: Any) -> dict[str, Any]:
    """A JSON object, or {} for anything else."""
    return value if isinstance(value, dict) else {}


def list_of(value: Any) -> list[Any]:
    """A JSON array, or [] for anything else."""
    return value if isinstance(value, list) else []


LOG_MARKERS = {"system": "· ", "text": "  ", "tool": "● ", "folded": "  ", "result": "◆ ", "error": "✘ ", "raw": "  "}
"""How each LogEntry kind starts its line; the control center colours lines by it.

A tool entry starting with `→` (a folded tool result) or `↳` (a nested call) is indented under
its call instead of getting its own marker; `result` is the session's closing line."""


def log_lines(entries: Iterable[LogEntry], width: int = 160) -> list[str]:
    """Log entries as lines: tool calls and results on one line of at most `width`, text as written."""
    lines: list[str] = []
    for entry in entries:
        marker = LOG_MARKERS.get(entry.kind, "  ")
        if entry.kind in ("tool", "result"):
            text = one_line(entry.text, width)
            if entry.kind == "tool" and text[:1] in ("→", "↳"):
                marker = LOG_MARKERS["folded"]
            if text:
                lines.append(marker + text)
            continue
        for line in entry.text.splitlines() or [""]:
            if line.strip():
                lines.append(marker + line.rstrip())
    return lines


def is_error_line(line: str) -> bool:
    """A line that tells of a failure: an error entry, a failed tool result, a failed ending."""
    return line.startswith((LOG_MARKERS["error"], "  → error", LOG_MARKERS["result"] + "failed"))
