"""The contract of a sink: anything that writes outside (GitHub, Slack, Discord) reads the store.

A sink never gets events from an in-memory queue. The outbox hands it the stored events after
its own cursor (kept in the store), together with the current snapshot, and moves the cursor
only once `deliver` returned. A sink therefore writes what the store says *now* (the latest
state of a comment, not each of its past states), and a restart resumes where it stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Collection, Iterator, Protocol, Sequence

if TYPE_CHECKING:
    from waterspider_tui.core.events import Event
    from waterspider_tui.core.state import Snapshot


class SinkUnavailable(RuntimeError):
    """Raised by `deliver` when the outside is down: the batch is offered again later.

    `retry_at` (epoch seconds) says when, if the outside told us (a rate limit's reset).
    """

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class Sink(Protocol):
    """Writes a view of the store somewhere outside."""

    name: str
    """Stable across restarts: the store keeps this sink's cursor under it."""

    def wants(self, event: Event) -> bool:
        """Whether this event can change what the sink writes (others only move the cursor)."""
        ...

    async def deliver(self, events: Sequence[Event], snapshot: Snapshot) -> Sequence[str | Event]:
        """Bring the outside up to date with these events; return one line per write that failed
        for good (shown to the operator as warnings), and the events it has to report (stored
        through the engine, like `MilestoneIntegrated`). Raise SinkUnavailable to be asked again.

        Must be idempotent: a batch may be offered again after a restart or an outage. An empty
        batch means "write what you put off, if it is due" (see `due_at`)."""
        ...

    def due_at(self) -> float | None:
        """When writes this sink put off (a comment edited too recently) are due; None: none are.

        The outbox then calls `deliver([], snapshot)`, so the latest state is written even
        when no new event comes to carry it."""
        ...

    async def close(self) -> None:
        ...


class StoredEvents(Protocol):
    """What the outbox reads: `store.event_log.EventLog` (the store layer is not imported here)."""

    def read(self, after_seq: int = 0, *, types: Collection[str] = ()) -> Iterator[Event]: ...
    def last_seq(self) -> int: ...


class CursorStore(Protocol):
    """Where the outbox keeps each sink's cursor: `store.sink_cursors.SinkCursors`."""

    def get(self, sink: str) -> int: ...
    def set(self, sink: str, seq: int) -> None: ...
