"""The control center stays open after a `--until-idle` run ends: `D` and `l` still read the
finished session's branch and log, though the run's executors are closed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.engine.conftest import write_issue, write_script
from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks

AGENT = """
import subprocess
print("writing the greeting", flush=True)
with open("greeting.txt", "a") as out:
    out.write("hello\\n")
subprocess.run(["git", "add", "greeting.txt"], check=True)
subprocess.run(["git", "commit", "-q", "-m", "greet"], check=True)
"""


async def test_the_diff_and_the_log_are_read_after_the_run_is_over(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, "Greet the user")
    agent = make_agent("command", {"argv": [sys.executable, str(write_script(tmp_path, "agent.py", AGENT))]}, EnvPolicy())
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=1)
    store_path = tmp_path / "state" / "state.db"
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=open_store(store_path),
        sources=[(LocalIssueSource(issues), 0.2)], agent=agent, pool=ExecutorPool([executor]),
        scheduler=SchedulerConfig(capacity=1), steps=make_steps(["commits"]),
        policy=SessionPolicy(stall_timeout_s=30.0, timeout_s=60.0, grace_s=1.0, max_attempts=1, retry_backoff_s=0.0),
    )
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    assert engine.snapshot.tasks["local#1"].state is TaskState.SUCCEEDED

    diff = await engine.load_diff("local#1")
    assert "diff --git a/greeting.txt b/greeting.txt" in diff and "\n+hello\n" in diff
    log = await engine.load_session_log("local#1")
    assert any("writing the greeting" in entry.text for entry in log), log
