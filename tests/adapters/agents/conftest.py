"""Fixtures for the agent tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from agents_testkit import Worktree, make_worktree


@pytest.fixture
def worktree(tmp_path: Path) -> Worktree:
    """A real repository with one commit on main and a worktree on `feature/issue-7`."""
    return make_worktree(tmp_path)
