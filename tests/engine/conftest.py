"""An Engine on a real repository, a real store and a command agent running real scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks

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


def other_host_clone(repo: Path, root: Path) -> Path:
    """A second clone standing for another machine: its own repository, worktrees and sessions."""
    clone = root / "clone"
    if not clone.exists():
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
        for key, value in (("user.name", "other host"), ("user.email", "other@waterspider.invalid")):
            subprocess.run(["git", "-C", str(clone), "config", key, value], check=True)
    return clone


def make_executor(kind: str, repo: Path, tmp_path: Path, capacity: int) -> LocalExecutor:
    if kind == "local":
        return LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=capacity)
    root = tmp_path / "mini-1"
    clone = other_host_clone(repo, root)
    return LocalExecutor(WorkspaceManager(clone, base_branch="main"), root / "sessions", name="mini-1", slots=capacity)


@pytest.fixture(params=["local", "other_host"])
def executor_kind(request: pytest.FixtureRequest) -> str:
    """Every engine test runs twice: on this machine, and on an executor standing for another host."""
    return str(request.param)


@pytest.fixture
def make_engine(tmp_path: Path, repo: Path, issues: Path, executor_kind: str) -> EngineFactory:
    def factory(script: Path | None, **settings: Any) -> Engine:
        simulated = settings.pop("simulated", None)
        agent_argv = settings.pop("agent_argv", None)
        if agent_argv is not None:
            agent = make_agent("command", {"argv": agent_argv}, EnvPolicy())
        elif simulated is not None:
            agent = make_agent("simulated", simulated, EnvPolicy())
        else:
            agent = make_agent("command", {"argv": [sys.executable, str(script)], "env": settings.pop("agent_env", {})}, EnvPolicy())
        defaults: dict[str, Any] = dict(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=2, retry_backoff_s=0.0)
        defaults.update(settings)
        capacity = defaults.pop("capacity", 2)
        executor = make_executor(executor_kind, repo, tmp_path, capacity)
        store_path = Path(settings_store) if (settings_store := defaults.pop("store", None)) else tmp_path / "state" / "state.db"
        store = open_store(store_path)
        return Engine(
            locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo),
            store=store, sources=[(LocalIssueSource(issues), 0.2)], agent=agent,
            pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=capacity),
            policy=SessionPolicy(**defaults), steps=make_steps(["commits"]),
        )

    return factory
