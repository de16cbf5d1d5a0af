"""Fixtures: a fresh fake GitHub per test, test time instead of real time, and clients wired to both."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable, Iterator

import pytest

from waterspider_tui.adapters.github.client import GitHubClient

from .fake_github import DEFAULT_TOKEN, FakeGitHub, start_fake_github
from .fake_github_model import FAKE_EPOCH


class FakeTime:
    """A clock and a sleep that advance together instantly, so waits are checked, not endured."""

    def __init__(self, start: float = FAKE_EPOCH + 86_400) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def github(fake_time: FakeTime) -> Iterator[FakeGitHub]:
    _, fake = start_fake_github(real_time=fake_time.clock)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def make_client(github: FakeGitHub, fake_time: FakeTime) -> AsyncIterator[Callable[..., GitHubClient]]:
    """Clients on the fake, in test time, with a small write interval; closed after the test."""
    clients: list[GitHubClient] = []

    def make(**options: object) -> GitHubClient:
        settings: dict[str, object] = dict(
            min_write_interval=0.01, sleep=fake_time.sleep, clock=fake_time.clock, jitter=lambda: 0.5
        )
        settings.update(options)
        client = GitHubClient(github.base_url, DEFAULT_TOKEN, **settings)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
