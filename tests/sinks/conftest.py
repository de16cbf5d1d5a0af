"""Fixtures for the notifier tests: a loopback webhook receiver, test time, a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest

from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.sink_cursors import SinkCursors
from waterspider_tui.store.state_store import StateStore

from .backlog import T0
from .webhook_receiver import WebhookReceiver


class FakeTime:
    """A clock and a sleep that advance together instantly."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class StoreFiles:
    """One orchestrator's view of the store file; a second one on the same file is a restart."""

    def __init__(self, db: Path) -> None:
        self.log = EventLog(db)
        self.state = StateStore(self.log)
        self.cursors = SinkCursors(db)

    def close(self) -> None:
        self.cursors.close()
        self.log.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    running = WebhookReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def test_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def store_files(tmp_path: Path) -> Iterator[StoreFiles]:
    opened = StoreFiles(tmp_path / "state.db")
    yield opened
    opened.close()
