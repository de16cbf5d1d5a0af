"""Messages the App posts to itself from engine callbacks (thread-safe, coalescing)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from waterspider_tui.core.state import Snapshot


@dataclass
class SnapshotReady(Message):
    """The engine published a new snapshot; a newer one replaces an older one still queued."""

    snapshot: Snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


class LogsPending(Message):
    """New agent log lines wait in the App's buffer; one message drains a whole burst."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogsPending)


@dataclass
class IssueSelected(Message):
    """A screen's cursor moved to an issue (None: to no issue); the App makes it the selection."""

    key: str | None
