"""When a channel writes: bursts gathered into one message, messages spaced out, and a ledger in the store.

The outbox moves a sink's cursor once `deliver` returns, even when the notices it brought are
held back to gather a burst. So that a restart in between loses nothing, the notifier keeps a
second mark in the store's sink cursors (`<name>:sent`): the last event whose notices are all
out. On the first delivery after a start, events between that mark and the outbox's cursor are
read again from the log, and events at or below it are never told twice. A channel turned on
for the first time puts both marks at the log's end: it starts from now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from waterspider_tui.core import events as ev

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.base import CursorStore, StoredEvents
    from waterspider_tui.adapters.sinks.notify.notices import Notice

DAY_S = 86_400.0


class Batcher:
    """Holds notices until the channel's next message is due.

    The first notice after a quiet spell waits `gather_s`, so the start of a burst travels
    together; after a message, the next waits until `min_interval_s` have passed. Fifty
    failures within `min_interval_s` are therefore at most two messages.
    """

    def __init__(self, *, gather_s: float = 5.0, min_interval_s: float = 60.0) -> None:
        self.gather_s = gather_s
        self.min_interval_s = min_interval_s
        self.pending: dict[str, Notice] = {}
        self.first_at: float | None = None
        self.last_sent_at: float | None = None

    def add(self, notices: Iterable[Notice], now: float) -> int:
        """Queue notices not already queued (a batch offered again repeats them); returns how many were new."""
        added = 0
        for notice in notices:
            if notice.key not in self.pending:
                self.pending[notice.key] = notice
                added += 1
        if self.pending and self.first_at is None:
            self.first_at = now
        return added

    def due_at(self) -> float | None:
        if not self.pending or self.first_at is None:
            return None
        due = self.first_at + self.gather_s
        if self.last_sent_at is not None:
            due = max(due, self.last_sent_at + self.min_interval_s)
        return due

    def take(self) -> list[Notice]:
        """The pending notices, oldest first; they stay pending until `sent` or `drop`."""
        return sorted(self.pending.values(), key=lambda notice: (notice.seq or 0, notice.ts, notice.key))

    def sent(self, now: float) -> None:
        self.last_sent_at = now
        self.drop()

    def drop(self) -> None:
        self.pending.clear()
        self.first_at = None


class Ledger:
    """A notifier's own marks beside its outbox cursor: what it has sent, and its last digest.

    Without a log and cursors (a terminal channel, a test) it keeps them in memory only.
    """

    def __init__(self, name: str, log: StoredEvents | None = None, cursors: CursorStore | None = None) -> None:
        self.name = name
        self._log = log
        self._cursors = cursors
        self.sent_seq = cursors.get(f"{name}:sent") if cursors is not None else 0
        """Every notice of events up to this seq is out (or was not worth sending)."""
        self._digest = cursors.get(f"{name}:digest") if cursors is not None else 0

    @property
    def durable(self) -> bool:
        return self._log is not None and self._cursors is not None

    def start_from_now(self) -> int:
        """A channel turned on for the first time (no cursor, nothing sent) owes nothing of the
        history already stored: both marks move to the log's end. Returns how many events that skipped."""
        if self._log is None or self._cursors is None or self.sent_seq > 0 or self._cursors.get(self.name) > 0:
            return 0
        last = self._log.last_seq()
        if last > 0:
            self._cursors.set(self.name, last)
            self.mark_sent(last)
        return last

    def hosts_told(self) -> dict[str, bool]:
        """Each host's reachability as the log stood at the sent mark: what this channel last said
        about it (or, for a channel that started late, what it took as the state it started from)."""
        if self._log is None or self.sent_seq <= 0:
            return {}
        told: dict[str, bool] = {}
        for event in self._log.read(0, types=(ev.HostProbed.type,)):
            if event.seq > self.sent_seq:
                break
            if isinstance(event, ev.HostProbed):
                told[event.host.name] = event.host.reachable
        return told

    def unsent(self) -> list[ev.Event]:
        """Events the outbox already moved past whose notices may not have gone out (a restart in between).

        A notifier with no mark yet (a new one) starts from the outbox's cursor: it does not tell history.
        """
        if self._log is None or self._cursors is None or self.sent_seq <= 0:
            return []
        upto = self._cursors.get(self.name)
        if upto <= self.sent_seq:
            return []
        found = []
        for event in self._log.read(self.sent_seq):
            if event.seq > upto:
                break
            found.append(event)
        return found

    def mark_sent(self, seq: int) -> None:
        if seq <= self.sent_seq:
            return
        self.sent_seq = seq
        if self._cursors is not None:
            self._cursors.set(f"{self.name}:sent", seq)

    @property
    def last_digest(self) -> float:
        return float(self._digest)

    def mark_digest(self, slot: float) -> None:
        self._digest = int(slot)
        if self._cursors is not None:
            self._cursors.set(f"{self.name}:digest", int(slot))


def parse_clock_time(text: str) -> float:
    """`HH:MM` as seconds after midnight; ValueError otherwise."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def latest_slot(now: float, offset_s: float) -> float:
    """The latest daily moment at `offset_s` after midnight UTC that is not after `now`."""
    today = now - now % DAY_S + offset_s
    return today if today <= now else today - DAY_S
