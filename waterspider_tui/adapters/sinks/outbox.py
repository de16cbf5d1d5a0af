"""The outbox: drives one sink from the stored events after its cursor, with retries, and drains at exit."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from typing import TYPE_CHECKING, Awaitable, Callable

from waterspider_tui.adapters.sinks.base import SinkUnavailable

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.base import CursorStore, Sink, StoredEvents
    from waterspider_tui.core.events import Event
    from waterspider_tui.core.state import Snapshot

logger = logging.getLogger(__name__)

BATCH_EVENTS = 500
"""Stored events read per delivery: large enough that a burst collapses into few writes."""
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0
BROKEN_TRIES = 5
"""A batch the sink keeps failing on with an unexpected error is skipped (with a warning) after this many tries."""


class Outbox:
    """Offers one sink the stored events after its cursor, and moves the cursor once it took them.

    Never raises into its caller: an unavailable outside is retried with backoff and jitter
    (not before the `retry_at` it gave), writes that failed for good go to `warn`.
    """

    def __init__(
        self,
        log: StoredEvents,
        sink: Sink,
        *,
        cursors: CursorStore,
        snapshot: Callable[[], Snapshot],
        warn: Callable[[str], None] = logger.warning,
        record: Callable[[Event], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        batch_events: int = BATCH_EVENTS,
    ) -> None:
        self.sink = sink
        self._log = log
        self._cursors = cursors
        self._snapshot = snapshot
        self._warn = warn
        self._record = record
        """Stores the events a sink reports (a milestone integrated); without it they are said as warnings."""
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._batch_events = batch_events
        self.cursor = cursors.get(sink.name)
        """The seq of the last stored event this sink has been given (or did not want)."""
        self.retry_at: float | None = None
        """While set and in the future, the sink is backing off after a failure."""
        self._failures = 0
        self._last_pending = 0
        self._more = True
        self._lock = asyncio.Lock()

    def pending(self) -> int:
        """Stored events after the cursor that the sink wants."""
        self._last_pending = sum(1 for event in self._log.read(self.cursor) if self.sink.wants(event))
        return self._last_pending

    def keeps_run_busy(self) -> bool:
        """Whether a run that stops when idle waits for this sink: it does part of the run's work (a
        milestone's integration, which the notifiers then announce and which may send an issue back
        to its agent) and has events waiting; not while it backs off."""
        return bool(getattr(self.sink, "part_of_the_run", False)) and self.retry_at is None and self.pending() > 0

    async def run(self, wake: asyncio.Event) -> None:
        """Deliver whenever `wake` is set (events were stored) or put-off writes fall due; until cancelled."""
        while True:
            wake.clear()
            try:
                await self._step()
                await self._wait(wake)
            except Exception as error:  # reading the log or asking the sink failed: not a reason to stop
                logger.exception("%s outbox failed", self.sink.name)
                self._back_off(f"{type(error).__name__}: {error}", None)
                await self._wait(wake)

    async def drain(self, deadline_s: float = 30.0, progress: Callable[[int, int], None] | None = None, *, at_exit: bool = False) -> int:
        """Deliver what is pending within `deadline_s`; return how many wanted events are left undelivered.

        `progress(done, total)` is called after each batch. Writes the sink put off are waited
        for only when they fall due within the deadline (`at_exit`: as `due_at_exit` says).
        """
        try:
            return await self._drain(self._clock() + deadline_s, progress, at_exit)
        except Exception:  # the log could not be read: say what was last known
            logger.exception("%s outbox failed while draining", self.sink.name)
            return self._last_pending

    def owed_at_exit(self) -> int:
        """What the exit still writes for this sink: the wanted events not yet offered, and what the
        sink took but holds back (`held_back()`, a notifier gathering a burst)."""
        held_back = getattr(self.sink, "held_back", None)
        return self.pending() + (int(held_back()) if held_back is not None else 0)

    def due_at_exit(self) -> float | None:
        """When writes put off fall due, as far as the exit waits for them: a sink whose due time is
        only its next look outside (`due_is_a_poll`, the merge watcher) owes nothing at exit, and one
        that sends what it holds back when closed (`sends_held_at_close`, a notifier) is not waited for."""
        if getattr(self.sink, "due_is_a_poll", False) or getattr(self.sink, "sends_held_at_close", False):
            return None
        return self.sink.due_at()

    def _due_while_draining(self, at_exit: bool) -> float | None:
        if at_exit:
            return self.due_at_exit()
        return None if getattr(self.sink, "due_is_a_poll", False) else self.sink.due_at()

    async def _drain(self, deadline: float, progress: Callable[[int, int], None] | None, at_exit: bool) -> int:
        done, total = 0, self.pending()
        self._progress(progress, done, total)
        while (left := deadline - self._clock()) > 0:
            now = self._clock()
            if self.retry_at is not None and self.retry_at > now:
                if self.retry_at >= deadline:
                    break
                await self._sleep(self.retry_at - now)
                continue
            due = self._due_while_draining(at_exit)
            if not self._stored_after_cursor():
                if due is None or due >= deadline:
                    break
                if due > now:
                    await self._sleep(due - now)
                    continue
            try:
                done += await asyncio.wait_for(self._step(), timeout=left)
            except asyncio.TimeoutError:
                break
            total = max(total, done)
            self._progress(progress, done, total)
        return self.pending()

    def _stored_after_cursor(self) -> bool:
        return next(iter(self._log.read(self.cursor)), None) is not None

    async def _step(self) -> int:
        """Deliver one batch (or what the sink put off, once due); return how many wanted events went out."""
        async with self._lock:
            now = self._clock()
            if self.retry_at is not None and self.retry_at > now:
                return 0
            events: list[Event] = []
            wanted: list[Event] = []
            try:
                events = list(itertools.islice(self._log.read(self.cursor), self._batch_events))
                self._more = len(events) >= self._batch_events
                wanted = [event for event in events if self.sink.wants(event)]
                due = self.sink.due_at()
                if wanted or (due is not None and due <= now):
                    for reported in await self.sink.deliver(wanted, self._snapshot()):
                        self._report(reported)
            except SinkUnavailable as error:
                self._back_off(str(error), error.retry_at)
                return 0
            except Exception as error:  # a sink bug must not stop the engine, nor block the sink forever
                logger.exception("%s sink failed", self.sink.name)
                if not self._give_up(error, events):
                    return 0
                wanted = []
            if self._failures:
                logger.info("%s sink delivering again after %d failed tries", self.sink.name, self._failures)
            self._failures, self.retry_at = 0, None
            self._advance(events)
            return len(wanted)

    def _advance(self, events: list[Event]) -> None:
        if events and events[-1].seq > self.cursor:
            self.cursor = events[-1].seq
            try:
                self._cursors.set(self.sink.name, self.cursor)
            except Exception:  # only costs offering these events again after a restart, which is harmless
                logger.exception("storing the %s sink's cursor failed", self.sink.name)

    def _back_off(self, message: str, retry_at: float | None) -> None:
        """Wait exponentially longer (half fixed, half random), but never less than until `retry_at`."""
        self._failures += 1
        now = self._clock()
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** (self._failures - 1))
        delay = ceiling / 2 + ceiling / 2 * self._jitter()
        if retry_at is not None:
            delay = max(retry_at - now, 0.0) + BACKOFF_BASE_S * self._jitter()
        self.retry_at = now + delay
        if self._failures == 1:
            self._say(f"{self.sink.name}: {message}; trying again in {delay:.0f}s, nothing is lost")

    def _give_up(self, error: Exception, events: list[Event]) -> bool:
        """After BROKEN_TRIES unexpected errors in a row the batch is skipped; before that, back off."""
        if self._failures + 1 < BROKEN_TRIES:
            self._back_off(f"{type(error).__name__}: {error}", None)
            return False
        span = f"events {events[0].seq}-{events[-1].seq}" if events else "its put-off writes"
        self._say(f"{self.sink.name}: gave up on {span} after {BROKEN_TRIES} tries: {type(error).__name__}: {error}")
        return True

    async def _wait(self, wake: asyncio.Event) -> None:
        now = self._clock()
        if self.retry_at is not None and self.retry_at > now:
            await self._sleep(self.retry_at - now)
            return
        due = self.sink.due_at()
        if self._more or wake.is_set() or (due is not None and due <= now):
            await asyncio.sleep(0)
        elif due is None:
            await wake.wait()
        else:
            await _first_of(wake.wait(), self._sleep(due - now))

    def _report(self, reported: str | Event) -> None:
        if isinstance(reported, str):
            self._say(f"{self.sink.name}: {reported}")
            return
        if self._record is None:
            self._say(f"{self.sink.name}: {getattr(reported, 'summary', '') or reported.type}")
            return
        try:
            self._record(reported)
        except Exception:
            logger.exception("storing what %s reported failed", self.sink.name)

    def _say(self, line: str) -> None:
        try:
            self._warn(line)
        except Exception:
            logger.exception("warning about %s failed", self.sink.name)

    @staticmethod
    def _progress(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
        if progress is not None:
            try:
                progress(done, total)
            except Exception:
                logger.exception("outbox progress callback failed")


async def _first_of(*waits: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
