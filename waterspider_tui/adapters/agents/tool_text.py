"""Short readable text for tool calls and their results: `Edit src/x.py (+3 −1)`, `→ 14 passed`."""

from __future__ import annotations

import json
from typing import Any

from waterspider_tui.text.log_text import one_line, text_of

_ARGUMENT_KEYS = ("command", "file_path", "notebook_path", "path", "pattern", "url", "query", "description", "prompt", "subject")
"""Which input key names a tool call best, in order of preference."""


def relative_path(path: str, cwd: str) -> str:
    """`path` relative to the worktree when it lies inside it (shorter, and host-independent)."""
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1 :]
    return path


def _line_count(text: Any) -> int:
    return len(text.splitlines()) if isinstance(text, str) else 0


def _edit_size(name: str, tool_input: dict[str, Any]) -> str:
    """`(+added −removed)` lines for file edits, so the log shows how big a change was."""
    if name == "Write":
        return f"(+{_line_count(tool_input.get('content'))})"
    edits = tool_input.get("edits") if name == "MultiEdit" else [tool_input]
    if not isinstance(edits, list):
        return ""
    added = sum(_line_count(edit.get("new_string")) for edit in edits if isinstance(edit, dict))
    removed = sum(_line_count(edit.get("old_string")) for edit in edits if isinstance(edit, dict))
    return f"(+{added} −{removed})"


def describe_todos(todos: list[tuple[str, str]]) -> str:
    """A todo list as one line: `2/4 done · now: Run the tests`."""
    done = sum(1 for _, status in todos if status == "completed")
    current = next((content for content, status in todos if status == "in_progress"), "")
    now = f" · now: {one_line(current, 60)}" if current else ""
    return f"{done}/{len(todos)} done{now}"


def describe_tool_use(name: str, tool_input: Any, cwd: str = "", width: int = 100) -> str:
    """`Name argument` for one tool call, e.g. `Bash pytest -q` or `Read src/app.py`."""
    if not isinstance(tool_input, dict):
        return name
    argument = ""
    for key in _ARGUMENT_KEYS:
        value = text_of(tool_input.get(key))
        if value:
            argument = relative_path(value, cwd) if key.endswith("path") else value
            break
    if not argument and tool_input:
        argument = json.dumps(tool_input, ensure_ascii=False, default=str)[: width * 2]
    text = f"{name} {one_line(argument, width)}".rstrip()
    if name in ("Edit", "MultiEdit", "Write"):
        text = f"{text} {_edit_size(name, tool_input)}"
    return text


def _content_text(content: Any) -> str:
    """A tool_result's content (a string or a list of blocks) as plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [text_of(block.get("text")) for block in content if isinstance(block, dict)]
        return "\n".join(part for part in parts if part)
    return ""


def _verdict(text: str, width: int) -> str:
    """The last non-blank line of output, which is usually the verdict ("14 passed", "1 file changed")."""
    tail = text[-width * 40 :]
    lines = [line for line in tail.splitlines() if line.strip()]
    if len(lines) <= 1:
        return one_line(text, width)
    counted = f"{len(lines)} lines" if len(tail) == len(text) else "many lines"
    return f"{one_line(lines[-1], width)}  ({counted})"


def fold_tool_result(content: Any, tool_use_result: Any = None, width: int = 100) -> str:
    """A tool result folded to one short line, preferring stdout for Bash and a file summary for Read."""
    if isinstance(tool_use_result, dict):
        file_info = tool_use_result.get("file")
        if isinstance(file_info, dict) and "numLines" in file_info:
            return f"read {file_info.get('numLines')} lines"
        stdout = text_of(tool_use_result.get("stdout"))
        stderr = text_of(tool_use_result.get("stderr"))
        if stdout.strip() or stderr.strip():
            return _verdict(stdout if stdout.strip() else stderr, width)
    return _verdict(_content_text(content), width) or "(no output)"


def short_command(command: str) -> str:
    """A shell command without a `bash -lc '…'` wrapper, as Codex reports them."""
    for prefix in ("/bin/bash -lc ", "bash -lc ", "/bin/sh -c ", "sh -c ", "/usr/bin/zsh -lc ", "zsh -lc "):
        if command.startswith(prefix):
            inner = command[len(prefix) :].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                inner = inner[1:-1]
            return inner
    return command
