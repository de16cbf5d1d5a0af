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

    def record(self, events: Iterable[ev.Event]) -> list[ev.Event]:
        stored = self.log.append(list(events))
        if not stored:
            return stored
        self.snapshot = apply_all(self.snapshot, stored)
        for subscriber in list(self._subscribers):
            subscriber(self.snapshot, stored)
        return stored
