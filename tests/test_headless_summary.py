"""The summary a headless run ends with: every issue that did not succeed and why, grouped and
counted when the list is long, so a stopped run of thousands prints a screenful, and complete:
the ready issues the run ended before count as much as the blocked ones."""

from __future__ import annotations

import re
from pathlib import Path

from tests.git_checkout import make_checkout
from tests.ui import scenarios
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, open_store
from waterspider_tui.headless import summary_lines


def engine_with(tmp_path: Path, *issues: scenarios.Issue) -> Engine:
    engine = Engine(
        store=open_store(tmp_path / "state.db"), sources=[],
        agent=make_agent("simulated", {"duration_s": 0.1}, EnvPolicy()),
        pool=ExecutorPool([LocalExecutor(WorkspaceManager(make_checkout(tmp_path / "widgets")), tmp_path / "sessions", slots=1)]),
        scheduler=SchedulerConfig(capacity=1),
    )
    engine.record(*scenarios.seen(*issues))
    return engine


def test_a_long_list_is_grouped_counted_and_complete(tmp_path: Path) -> None:
    chain = [scenarios.issue(1, "Root", "P1")] + [scenarios.issue(n, f"Step {n}", "P1", deps=(n - 1,)) for n in range(2, 401)]
    free = [scenarios.issue(n, f"Free {n}", "P2") for n in range(401, 901)]
    lines = summary_lines(engine_with(tmp_path, *chain, *free))
    assert lines[0] == "summary: not done: 900 queued", lines[0]
    assert len(lines) < 30, "\n".join(lines)
    more = {match.group(2): int(match.group(1)) for line in lines if (match := re.match(r"  … and (\d+) more (.+)", line))}
    listed = [line for line in lines[1:] if re.match(r"  #\d+ ", line)]
    assert sum(more.values()) + len(listed) == 900, "\n".join(lines)
    assert "  #2 not run: waits on #1 (queued)" in lines
    assert any(line.startswith("  #401 not started: ready, the run ended first") for line in lines), "\n".join(lines)
    assert more == {"waiting on other issues": 399 - 5, "ready, not started": 501 - 5}, more


def test_a_short_list_names_every_issue(tmp_path: Path) -> None:
    issues = [scenarios.issue(1, "Root", "P1"), scenarios.issue(2, "Next", "P1", deps=(1,)), scenarios.issue(3, "Other", "P1", deps=(1,))]
    lines = summary_lines(engine_with(tmp_path, *issues))
    assert lines[1:] == ["  #2 not run: waits on #1 (queued)", "  #3 not run: waits on #1 (queued)", "  #1 not started: ready, the run ended first"]
