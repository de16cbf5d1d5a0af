"""Shared test set-up: a clean environment for child processes and git identities."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.xdist_snapshots"]


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests make commits; give git an identity without touching the user's config."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", "waterspider tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@waterspider.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "waterspider tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@waterspider.invalid")
    for name in list(os.environ):
        if name.startswith("WATERSPIDER_"):
            monkeypatch.delenv(name)
