"""A fresh repository, bare remote and issue worktree per test."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.pipeline.worktree_session import World, make_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    made = await make_world(tmp_path)
    yield made
    await made.executor.close()
