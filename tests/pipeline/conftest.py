"""A fresh repository, bare remote and issue worktree per test; the loopback GitHub and a client of it."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from tests.github.fake_github import DEFAULT_TOKEN, FakeGitHub, start_fake_github
from tests.pipeline.worktree_session import World, make_world
from waterspider_tui.adapters.github.client import GitHubClient


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    made = await make_world(tmp_path)
    yield made
    await made.executor.close()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    _, fake = start_fake_github()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def client(github: FakeGitHub) -> AsyncIterator[GitHubClient]:
    made = GitHubClient(github.base_url, DEFAULT_TOKEN, min_write_interval=0.0)
    try:
        yield made
    finally:
        await made.aclose()
