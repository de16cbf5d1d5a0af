"""The outbox against a real event log: cursors kept in the store, batches, backoff, put-off writes, drain."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from tests.github.conftest import FakeTime
from tests.waiting import until as wait_until
from waterspider_tui.adapters.sinks.base import SinkUnavailable
from waterspider_tui.adapters.sinks.outbox import BROKEN_TRIES, Outbox
from waterspider_tui.core import events as ev
from waterspider_tui.core.state import Snapshot
from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.sink_cursors import SinkCursors
from waterspider_tui.store.state_store import StateStore

T0 = 1_800_000_000.0


class RecordingSink:
    """Wants `Warned` events; records each batch; fails as told."""

    name = "recording"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.raises: list[Exception] = []
        self.lines: list[str] = []
        self.due: float | None = None
        self.next_due: float | None = None
        """What `due_at` says after the next delivery (a write it put off)."""

    def wants(self, event: ev.Event) -> bool:
        return isinstance(event, ev.Warned)

    async def deliver(self, events: Sequence[ev.Event], snapshot: Snapshot) -> list[str]:
        if self.raises:
            raise self.raises.pop(0)
        self.batches.append([event.message for event in events if isinstance(event, ev.Warned)])
        self.due, self.next_due = self.next_due, None
        lines, self.lines = self.lines, []
        return lines

    def due_at(self) -> float | None:
        return self.due

    async def close(self) -> None:
        pass


class Store:
    def __init__(self, db: Path) -> None:
        self.log = EventLog(db)
        self.state = StateStore(self.log)
        self.cursors = SinkCursors(db)

    def note(self, *messages: str) -> None:
        self.state.record([ev.Warned(ts=T0, message=message) for message in messages])

    def other(self, count: int = 1) -> None:
        self.state.record([ev.DispatcherResumed(ts=T0, by="test") for _ in range(count)])

    def close(self) -> None:
        self.cursors.close()
        self.log.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "state.db")
    yield opened
    opened.close()


@pytest.fixture
def test_time() -> FakeTime:
    return FakeTime(start=T0)


def outbox_for(store: Store, sink: RecordingSink, test_time: FakeTime, warnings: list[str] | None = None, **options) -> Outbox:
    return Outbox(
        store.log, sink, cursors=store.cursors, snapshot=lambda: store.state.snapshot,
        warn=(warnings if warnings is not None else []).append, clock=test_time.clock, sleep=test_time.sleep,
        jitter=lambda: 0.5, **options,
    )


async def test_delivers_what_is_stored_after_its_cursor_once_and_a_restart_resumes(store: Store, tmp_path: Path, test_time) -> None:
    sink = RecordingSink()
    outbox = outbox_for(store, sink, test_time)
    store.note("a", "b")
    store.other()
    assert outbox.pending() == 2
    assert await outbox.drain() == 0
    assert sink.batches == [["a", "b"]]
    assert store.cursors.get("recording") == store.log.count() == 3
    store.note("c")
    store.close()

    reopened = Store(tmp_path / "state.db")
    after_restart = RecordingSink()
    resumed = outbox_for(reopened, after_restart, test_time)
    assert resumed.pending() == 1
    assert await resumed.drain() == 0
    assert after_restart.batches == [["c"]], "nothing delivered before the restart is offered again"
    reopened.close()


async def test_events_the_sink_does_not_want_only_move_the_cursor(store: Store, test_time) -> None:
    sink = RecordingSink()
    outbox = outbox_for(store, sink, test_time)
    store.other(3)
    assert outbox.pending() == 0
    assert await outbox.drain() == 0
    await outbox._step()
    assert sink.batches == [] and outbox.cursor == 3


async def test_batches_and_progress(store: Store, test_time) -> None:
    sink = RecordingSink()
    outbox = outbox_for(store, sink, test_time, batch_events=3)
    store.note(*"abcdefg")
    seen: list[tuple[int, int]] = []
    assert await outbox.drain(progress=lambda done, total: seen.append((done, total))) == 0
    assert sink.batches == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]


async def test_an_unavailable_sink_waits_until_retry_at_then_gets_the_same_batch(store: Store, test_time) -> None:
    sink = RecordingSink()
    warnings: list[str] = []
    outbox = outbox_for(store, sink, test_time, warnings)
    store.note("final")
    sink.raises = [SinkUnavailable("rate limited", retry_at=T0 + 600), SinkUnavailable("502")]
    assert await outbox.drain(deadline_s=60) == 1, "the reset is past the deadline: nothing is tried"
    assert sink.batches == [] and test_time.sleeps == []
    assert await outbox.drain(deadline_s=3600) == 0
    assert sink.batches == [["final"]]
    assert test_time.sleeps[0] == pytest.approx(600 + 0.5), "until the reset, plus jitter"
    assert test_time.sleeps[1] == pytest.approx(1.5), "the second failure in a row: backoff, half fixed, half jitter"
    assert len(warnings) == 1 and "rate limited" in warnings[0] and "nothing is lost" in warnings[0]


async def test_backoff_grows_and_is_capped(store: Store, test_time) -> None:
    sink = RecordingSink()
    outbox = outbox_for(store, sink, test_time)
    store.note("x")
    sink.raises = [SinkUnavailable("down") for _ in range(12)]
    assert await outbox.drain(deadline_s=10_000) == 0
    assert test_time.sleeps[:4] == pytest.approx([0.75, 1.5, 3.0, 6.0])
    assert max(test_time.sleeps) == pytest.approx(300.0 * 0.75)


async def test_writes_that_failed_for_good_are_warnings_and_the_cursor_moves(store: Store, test_time) -> None:
    sink = RecordingSink()
    warnings: list[str] = []
    outbox = outbox_for(store, sink, test_time, warnings)
    store.note("a")
    sink.lines = ["writing the comment of s-1 on o/r#1: 404"]
    assert await outbox.drain() == 0
    assert warnings == ["recording: writing the comment of s-1 on o/r#1: 404"]


async def test_a_sink_bug_is_retried_then_the_batch_is_skipped_and_nothing_raises(store: Store, test_time) -> None:
    sink = RecordingSink()
    warnings: list[str] = []
    outbox = outbox_for(store, sink, test_time, warnings)
    store.note("poison")
    sink.raises = [KeyError("boom") for _ in range(BROKEN_TRIES)]
    assert await outbox.drain(deadline_s=10_000) == 0
    assert sink.batches == []
    assert "gave up on events 1-1" in warnings[-1] and "KeyError" in warnings[-1]
    store.note("next")
    assert await outbox.drain() == 0
    assert sink.batches == [["next"]]


async def test_run_delivers_on_wake_and_when_put_off_writes_fall_due(store: Store, test_time) -> None:
    sink = RecordingSink()
    outbox = outbox_for(store, sink, test_time)
    wake = asyncio.Event()
    runner = asyncio.create_task(outbox.run(wake))
    try:
        store.note("a")
        wake.set()
        await until(lambda: sink.batches == [["a"]])
        sink.next_due = test_time.now + 20
        store.note("b")
        wake.set()
        await until(lambda: sink.batches == [["a"], ["b"], []])
        assert test_time.now >= T0 + 20, "the put-off write was offered once due, with no new event"
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    assert outbox.pending() == 0


async def test_drain_with_a_deadline_returns_what_is_left(store: Store, test_time) -> None:
    sink = RecordingSink()
    outbox = outbox_for(store, sink, test_time)
    store.note("a", "b", "c")
    sink.raises = [SinkUnavailable("down") for _ in range(100)]
    assert await outbox.drain(deadline_s=30) == 3
    assert store.cursors.get("recording") == 0


def test_sink_cursors_live_in_the_event_logs_file(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    log = EventLog(db)
    cursors = SinkCursors(db)
    assert cursors.get("github") == 0
    cursors.set("github", 41)
    cursors.set("github", 42)
    cursors.set("slack", 7)
    cursors.close()
    log.close()
    with sqlite3.connect(db) as raw:
        assert dict(raw.execute("SELECT sink, seq FROM sink_cursors")) == {"github": 42, "slack": 7}
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert SinkCursors(db).all() == {"github": 42, "slack": 7}


async def until(condition) -> None:  # type: ignore[no-untyped-def]
    await wait_until(condition, poll_s=0.005)


async def test_run_outlives_a_sink_that_throws_and_a_cursor_that_cannot_be_stored(store: Store, test_time) -> None:
    class ThrowingSink(RecordingSink):
        asked = 0

        def due_at(self) -> float | None:
            self.asked += 1
            if self.asked in (2, 3):
                raise RuntimeError("sink bug")
            return self.due

    class LockedCursors:
        def get(self, sink: str) -> int:
            return 0

        def set(self, sink: str, seq: int) -> None:
            raise sqlite3.OperationalError("database is locked")

    sink = ThrowingSink()
    outbox = Outbox(store.log, sink, cursors=LockedCursors(), snapshot=lambda: store.state.snapshot,
                    clock=test_time.clock, sleep=test_time.sleep, jitter=lambda: 0.5)
    wake = asyncio.Event()
    runner = asyncio.create_task(outbox.run(wake))
    try:
        store.note("a")
        wake.set()
        await until(lambda: sink.batches == [["a"]] and outbox.cursor == 1)
        store.note("b")
        wake.set()
        await until(lambda: sink.batches == [["a"], ["b"]])
        assert not runner.done()
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
