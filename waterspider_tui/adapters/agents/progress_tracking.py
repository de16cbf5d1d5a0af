"""Where a session stands: the agent's own todo list when it keeps one, else phases read off its tool use."""

from __future__ import annotations

import re
from typing import Any

from waterspider_tui.text.log_text import one_line, text_of

PHASES = ("analysing", "implementing", "testing", "committing")
"""The phases every issue goes through, in order; tool use tells which one an agent is in."""

_READING_TOOLS = {"Read", "Grep", "Glob", "LS", "NotebookRead", "WebFetch", "WebSearch", "TodoRead", "ToolSearch"}
_EDITING_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit"}

_TEST_COMMAND = re.compile(
    r"(?:^|[\s;&|(/])(?:pytest|py\.test|tox|nox|jest|vitest|mocha|rspec|phpunit|ctest)(?:\s|$)"
    r"|\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test\b"
    r"|\b(?:cargo|go|mix|dotnet|deno|mvn|gradle|gradlew)\s+test\b"
    r"|\bmake\s+(?:test|check)\b"
    r"|-m\s+(?:pytest|unittest)\b"
)
_COMMIT_COMMAND = re.compile(r"\bgit\b[^;&|]*?\s(?:commit|push|add)\b|\bgh\s+pr\s+create\b")
_READING_COMMAND = re.compile(r"^\s*(?:ls|cat|head|tail|grep|rg|find|tree|wc|pwd|git\s+(?:status|diff|log|show|grep))\b")


def phase_of_command(command: str) -> str | None:
    """The phase a shell command belongs to, or None when it says nothing (a build, an install)."""
    if _COMMIT_COMMAND.search(command):
        return "committing"
    if _TEST_COMMAND.search(command):
        return "testing"
    if _READING_COMMAND.search(command):
        return "analysing"
    return None


def phase_of_tool(name: str, tool_input: Any) -> str | None:
    """The phase one tool call belongs to (analysing, implementing, testing, committing) or None."""
    if name in _READING_TOOLS:
        return "analysing"
    if name in _EDITING_TOOLS:
        return "implementing"
    if name == "Bash" and isinstance(tool_input, dict):
        return phase_of_command(text_of(tool_input.get("command")))
    return None


class PhaseTracker:
    """The current phase and the furthest one reached; progress never goes backwards."""

    def __init__(self) -> None:
        self.current = "starting"
        self._furthest = -1

    def see(self, phase: str | None) -> None:
        """Note that the agent did something belonging to `phase`."""
        if phase is None:
            return
        self.current = phase
        self._furthest = max(self._furthest, PHASES.index(phase))

    @property
    def done(self) -> int:
        """Phases finished: all those before the furthest one reached."""
        return max(self._furthest, 0)


class TodoList:
    """The agent's own todo list, from TodoWrite (whole list) or TaskCreate/TaskUpdate (one item)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        self._created = 0

    def __bool__(self) -> bool:
        return bool(self._items)

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        return tuple(self._items.values())

    def apply(self, name: str, tool_input: Any) -> bool:
        """Update from one tool call; True when it was a todo tool."""
        if not isinstance(tool_input, dict):
            return False
        if name == "TodoWrite":
            todos = tool_input.get("todos")
            if isinstance(todos, list):
                self._items = {
                    str(index): (one_line(text_of(todo.get("content")), 200), text_of(todo.get("status")) or "pending")
                    for index, todo in enumerate(todos, start=1)
                    if isinstance(todo, dict)
                }
            return True
        if name == "TaskCreate":
            # Claude Code numbers tasks 1, 2, 3… in creation order.
            self._created += 1
            self._items[str(self._created)] = (one_line(text_of(tool_input.get("subject")), 200), "pending")
            return True
        if name == "TaskUpdate":
            task_id = str(tool_input.get("taskId", ""))
            status = text_of(tool_input.get("status"))
            if task_id in self._items:
                content, old_status = self._items[task_id]
                if status == "deleted":
                    del self._items[task_id]
                else:
                    subject = text_of(tool_input.get("subject")) or content
                    self._items[task_id] = (subject, status or old_status)
            return True
        return False

    @property
    def done(self) -> int:
        return sum(1 for _, status in self._items.values() if status == "completed")

    @property
    def current(self) -> str:
        """What the agent says it is doing now (the item in progress, else the next pending one)."""
        for wanted in ("in_progress", "pending"):
            for content, status in self._items.values():
                if status == wanted:
                    return one_line(content, 60)
        return "done" if self._items else ""
