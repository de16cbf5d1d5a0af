"""A notifier as a sink: notices read from the store, batched, and sent to one channel (Slack, Discord, the terminal)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Callable, Iterable, Protocol, Sequence

from waterspider_tui.adapters.sinks.base import SinkUnavailable
from waterspider_tui.adapters.sinks.notify.batching import DAY_S, Batcher, Ledger, latest_slot, parse_clock_time
from waterspider_tui.adapters.sinks.notify.digest import digest_notice
from waterspider_tui.adapters.sinks.notify.messages import compose
from waterspider_tui.adapters.sinks.notify.finder import NoticeFinder
from waterspider_tui.adapters.sinks.notify.notices import ALL_KINDS, NoticeKind
from waterspider_tui.adapters.sinks.notify.webhook import WebhookRejected

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.base import CursorStore, StoredEvents
    from waterspider_tui.adapters.sinks.notify.messages import Message
    from waterspider_tui.core.events import Event
    from waterspider_tui.core.milestones import DoneWhen
    from waterspider_tui.core.state import Snapshot

logger = logging.getLogger(__name__)

CLOSE_SEND_S = 10.0
"""At exit, how long the last held-back message may take."""


class Channel(Protocol):
    """Where messages go. `send` raises SinkUnavailable to be asked again, WebhookRejected when refused for good."""

    kind: str

    async def send(self, message: Message) -> None: ...

    async def close(self) -> None: ...


class NotifySink:
    """A `Sink` that tells one channel what is worth telling, in few messages.

    Notices of the enabled kinds are gathered (`Batcher`) and sent as one message when due;
    the outbox calls back through `due_at` for what was put off. What is sent is marked in the
    store (`Ledger`), so a restart neither loses a put-off notice nor repeats a sent one.
    """

    def __init__(
        self, channel: Channel, *, kinds: Iterable[NoticeKind | str] = ALL_KINDS, name: str | None = None,
        mentions: Sequence[str] = (), gather_s: float = 5.0, min_interval_s: float = 60.0,
        stale_after_s: float = 6 * 3600.0, digest_at_utc: str = "08:00", done_when: DoneWhen = "succeeded",
        source: str = "waterspider", max_lines: int = 15, log: StoredEvents | None = None,
        cursors: CursorStore | None = None, clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel = channel
        self.name = name or f"notify.{channel.kind}"
        self.finder = NoticeFinder(kinds, done_when=done_when)
        self.kinds = self.finder.kinds
        self.mentions = tuple(mentions) if NoticeKind.OPERATOR in self.kinds else ()
        self.batcher = Batcher(gather_s=gather_s, min_interval_s=min_interval_s)
        self.ledger = Ledger(self.name, log, cursors)
        if skipped := self.ledger.start_from_now():
            logger.info("%s: a new channel, starting from now (%d stored events before it are not told)", self.name, skipped)
        self.stale_after_s = stale_after_s
        self.source = source
        self.max_lines = max_lines
        self.done_when: DoneWhen = done_when
        self._clock = clock
        self._digest_offset = parse_clock_time(digest_at_utc) if digest_at_utc and NoticeKind.DIGEST in self.kinds else None
        self._recovered = False
        self._processed = 0
        """The highest seq whose notices are queued or sent."""
        self.messages_sent = 0

    sends_held_at_close = True
    """At exit the outbox does not wait for a gathered burst's time: `close` sends it at once."""

    def held_back(self) -> int:
        """Notices taken from the store and not sent yet (a burst being gathered)."""
        return len(self.batcher.pending)

    def wants(self, event: Event) -> bool:
        return self.finder.wants(event)

    def due_at(self) -> float | None:
        times = [due for due in (self.batcher.due_at(), self._next_digest()) if due is not None]
        return min(times, default=None)

    async def deliver(self, events: Sequence[Event], snapshot: Snapshot) -> list[str]:
        """Queue the batch's notices; send them all as one message once due."""
        now = self._clock()
        if not self._recovered:
            self._recovered = True
            if NoticeKind.HOST_DOWN in self.kinds:
                self.finder.recall_hosts(self.ledger.hosts_told())
            offered = {event.seq for event in events}
            events = [event for event in self.ledger.unsent() if event.seq not in offered and self.wants(event)] + list(events)
        fresh = [event for event in events if event.seq > self.ledger.sent_seq]
        if fresh and not self.batcher.pending:
            self.ledger.mark_sent(min(event.seq for event in fresh) - 1)
        notices = [notice for notice in self.finder.find(fresh, snapshot) if notice.ts >= now - self.stale_after_s]
        self.batcher.add(notices, now)
        self._processed = max(self._processed, self.ledger.sent_seq, *(event.seq for event in fresh))
        self._queue_digest(snapshot, now)
        if not self.batcher.pending:
            self.ledger.mark_sent(self._processed)
            return []
        due = self.batcher.due_at()
        if due is not None and due > now:
            return []
        return await self._send(now)

    async def close(self) -> None:
        """At exit, send what was held back (once, without waiting for its time); the ledger keeps it for the next start if that fails."""
        try:
            if self.batcher.pending:
                lines = await asyncio.wait_for(self._send(self._clock()), CLOSE_SEND_S)
                for line in lines:
                    logger.warning("%s: %s", self.name, line)
        except (SinkUnavailable, asyncio.TimeoutError) as error:
            logger.warning("%s: %d notices left for the next start: %s", self.name, len(self.batcher.pending), error or "timed out")
        except Exception:  # a broken channel must not stop the shutdown
            logger.exception("%s: sending at exit failed", self.name)
        finally:
            await self.channel.close()

    async def _send(self, now: float) -> list[str]:
        notices = self.batcher.take()
        message = compose(notices, source=self.source, mentions=self.mentions, max_lines=self.max_lines, now=now)
        failures: list[str] = []
        try:
            await self.channel.send(message)
            self.messages_sent += 1
        except SinkUnavailable:
            raise
        except WebhookRejected as error:
            failures.append(f"{error}; {len(notices)} notices dropped")
        except OSError as error:  # a terminal that went away
            failures.append(f"{self.channel.kind}: {error.strerror or error}; {len(notices)} notices dropped")
        digests = [notice.ts for notice in notices if notice.kind is NoticeKind.DIGEST]
        if digests:
            self.ledger.mark_digest(max(digests))
        self.batcher.sent(now)
        self.ledger.mark_sent(self._processed)
        return failures

    def _next_digest(self) -> float | None:
        if self._digest_offset is None:
            return None
        last = self.ledger.last_digest
        if not last:  # a new notifier: the first digest is the next one, not one at start
            self.ledger.mark_digest(latest_slot(self._clock(), self._digest_offset))
            last = self.ledger.last_digest
        return last + DAY_S

    def _queue_digest(self, snapshot: Snapshot, now: float) -> None:
        """After a day (or a restart that missed one), queue the digest of the latest slot, once."""
        due = self._next_digest()
        if due is None or due > now or self._digest_offset is None:
            return
        slot = latest_slot(now, self._digest_offset)
        notice = digest_notice(snapshot, slot, done_when=self.done_when)
        if notice is None:
            self.ledger.mark_digest(slot)  # a quiet day: nothing to say
            logger.info("%s: nothing for the digest of %s", self.name, time.strftime("%Y-%m-%d", time.gmtime(slot)))
        else:
            self.batcher.add([notice], now)
