"""An Engine on a real repository, a real store and a command agent running real scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, open_store

EngineFactory = Callable[..., Engine]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_checkout(tmp_path / "repo")


@pytest.fixture
def issues(tmp_path: Path) -> Path:
    path = tmp_path / "issues"
    path.mkdir()
    return path


def write_issue(folder: Path, number: int, title: str = "", body: str = "", **front: Any) -> None:
    lines = [f"title: {title or f'Issue {number}'}"] + [f"{key}: {value}" for key, value in front.items()]
    (folder / f"{number:03d}.md").write_text("---\n" + "\n".join(lines) + "\n---\n" + body + "\n")


def write_script(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(code)
    return path


@pytest.fixture
def make_engine(tmp_path: Path, repo: Path, issues: Path) -> EngineFactory:
    def factory(script: Path | None, **settings: Any) -> Engine:
        simulated = settings.pop("simulated", None)
        if simulated is not None:
            agent = make_agent("simulated", simulated, EnvPolicy())
        else:
            agent = make_agent("command", {"argv": [sys.executable, str(script)]}, EnvPolicy())
        store = open_store(tmp_path / "state" / "state.db")
        defaults: dict[str, Any] = dict(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=2, retry_backoff_s=0.0)
        defaults.update(settings)
        capacity = defaults.pop("capacity", 2)
        return Engine(
            store=store, sources=[(LocalIssueSource(issues), 0.2)], agent=agent,
            workspace=WorkspaceManager(repo), scheduler=SchedulerConfig(capacity=capacity),
            sessions_dir=tmp_path / "state" / "sessions", executor=LocalExecutor(capacity=capacity), **defaults,
        )

    return factory
