"""Shared test set-up: a clean environment for child processes and git identities."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.xdist_snapshots"]

SUITE_WORKERS = 4
"""xdist workers for a folder of tests (`-n auto` in pyproject). The suite mostly waits (agents,
sshd, git, servers), so four workers overlap those waits on two cores."""


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a folder of tests (the whole suite by default) runs on SUITE_WORKERS workers; tests
    named by file or id run in this one process, where a worker's start-up would cost more than it
    saves. `-n N` on the command line decides instead."""
    named = [arg.split("::", 1)[0] for arg in config.args]
    return SUITE_WORKERS if any(os.path.isdir(path) for path in named) else 0


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
    # An xdist worker has COLUMNS=80 where a run in one process has none: output fitted to the
    # terminal would differ by how the suite was run.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
