"""The single owner of state: appends events to the log, folds them, publishes snapshots."""

from __future__ import annotations

from typing import Callable, Iterable

from waterspider_tui.core import events as ev
from waterspider_tui.core.state import Snapshot, apply_all, replay
from waterspider_tui.store.event_log import EventLog

Subscriber = Callable[[Snapshot, list[ev.Event]], None]


class StateStore:
    """Every change goes through `record`: durable first, then folded, then published."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.snapshot: Snapshot = replay(log.read())
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def record(self, events: Iterable[ev.Event], *, durable: bool = True) -> list[ev.Event]:
        """Append and publish events; `durable=False` publishes without writing to the log.

        Transient events are for what is measured again anyway (host load, a running
        session's turn count between phases): they keep the log small and replay fast.
        """
        batch = list(events)
        stored = self.log.append(batch) if durable else batch
        if not stored:
            return stored
        self.snapshot = apply_all(self.snapshot, stored)
        for subscriber in list(self._subscribers):
            subscriber(self.snapshot, stored)
        return stored
