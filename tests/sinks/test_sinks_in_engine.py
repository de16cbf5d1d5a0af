"""The notifier and the milestone integrator in a real engine run: simulated agents in real worktrees, a loopback Slack."""

from __future__ import annotations

import asyncio
import sys
import subprocess
from pathlib import Path

from tests.engine.conftest import write_issue
from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.integration import BranchIntegrator
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.sinks.milestones import MilestoneSink
from waterspider_tui.adapters.sinks.notify import NotifySink, SlackChannel, WebhookUrl
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks
from waterspider_tui.store.sink_cursors import SinkCursors

from .webhook_receiver import WebhookReceiver


def section_texts(payload: dict) -> str:
    return " ".join(block["text"]["text"] for block in payload["blocks"] if block["type"] in ("header", "section"))


async def test_a_milestone_run_is_integrated_and_announced(tmp_path: Path, receiver: WebhookReceiver) -> None:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, milestone="v1.0")
    write_issue(issues, 2, milestone="v1.0", depends_on="[1]")
    write_issue(issues, 3, milestone="v1.0", depends_on="[2]")
    store_path = tmp_path / "state" / "state.db"
    store = open_store(store_path)
    ledger = SinkCursors(store_path)
    notifier = NotifySink(
        SlackChannel(WebhookUrl(receiver.url("/slack/T/B/secret"), "$WATERSPIDER_SLACK_WEBHOOK_URL")),
        gather_s=0.2, min_interval_s=0.5, digest_at_utc="", log=store.log, cursors=ledger,
    )
    integrator = MilestoneSink(BranchIntegrator(repo, "main"))
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=2)
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=store,
        sources=[(LocalIssueSource(issues), 0.2)], agent=make_agent("simulated", {"duration_s": 0.2}, EnvPolicy()),
        pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=2), policy=SessionPolicy(max_attempts=1),
        steps=make_steps(["commits"]), sinks=[notifier, integrator],
    )
    try:
        await asyncio.wait_for(engine.run(until_idle=True), 60)
    finally:
        ledger.close()
    merges = subprocess.run(["git", "log", "--first-parent", "--format=%s", "main..integration/v1.0"], cwd=repo, capture_output=True, text=True, check=True).stdout.split("\n")
    assert [line.split()[1] for line in merges if line][::-1] == ["#1", "#2", "#3"]
    reports = [event for event in engine.store.log.read() if isinstance(event, ev.MilestoneIntegrated)]
    assert len(reports) == 1 and "3 issues integrated into integration/v1.0" in reports[0].summary
    assert engine.snapshot.integrations[("local", "v1.0")].seq == reports[0].seq, "stored through the engine, folded into the snapshot"
    told = " ".join(section_texts(payload) for payload in receiver.accepted("/slack"))
    assert "v1.0" in told and "complete: 3 issues done" in told
    assert "3 issues integrated into integration/v1.0" in told, "the integrator's stored event reaches the channel"
    assert "secret" not in " ".join(engine.snapshot.warnings)


RESOLVING_AGENT = """
import os, pathlib, subprocess, sys
number = os.environ["WATERSPIDER_ISSUE_NUMBER"]
follow_up = os.environ.get("WATERSPIDER_FOLLOW_UP_FILE")
app = pathlib.Path("src/app.py")
if follow_up:
    note = pathlib.Path(follow_up).read_text()
    if "src/app.py" not in note or "<<<<<<<" not in app.read_text():
        print("error: no conflict to resolve")
        sys.exit(2)
    app.write_text("FROM = [1, 3]\\n")  # both sides kept
    subprocess.run(["git", "add", "src/app.py"], check=True)
    subprocess.run(["git", "commit", "-q", "--no-edit"], check=True)
    print("resolved the conflict with #1")
    sys.exit(0)
pathlib.Path("src").mkdir(exist_ok=True)
if number in ("1", "3"):
    app.write_text(f"FROM = [{number}]\\n")
pathlib.Path(f"src/part{number}.py").write_text(f"PART = {number}\\n")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-q", "-m", f"issue {number}"], check=True)
"""


async def test_a_planted_conflict_goes_back_to_its_agent_and_the_milestone_then_integrates(tmp_path: Path) -> None:
    repo = make_checkout(tmp_path / "repo")
    issues = tmp_path / "issues"
    issues.mkdir()
    write_issue(issues, 1, milestone="v1.0")
    write_issue(issues, 2, milestone="v1.0", depends_on="[1]")
    write_issue(issues, 3, milestone="v1.0")  # from the base, not stacked on #1: its src/app.py conflicts with #1's
    script = tmp_path / "agent.py"
    script.write_text(RESOLVING_AGENT)
    store_path = tmp_path / "state" / "state.db"
    store = open_store(store_path)
    integrator = MilestoneSink(BranchIntegrator(repo, "main"), on_conflict="requeue_rebased")
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=1)
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=store,
        sources=[(LocalIssueSource(issues), 0.2)], agent=make_agent("command", {"argv": [sys.executable, str(script)]}, EnvPolicy()),
        pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=1), policy=SessionPolicy(max_attempts=1),
        steps=make_steps(["commits"]), sinks=[integrator],
    )
    await asyncio.wait_for(engine.run(until_idle=True), 120)
    reports = [event for event in engine.store.log.read() if isinstance(event, ev.MILESTONE_EVENTS)]
    assert [type(event) for event in reports] == [ev.MilestoneConflict, ev.MilestoneIntegrated], [event.summary for event in reports]
    conflict, integrated = reports
    assert conflict.issue == "local#3" and conflict.with_issues == ("local#1",) and conflict.files == ("src/app.py",) and conflict.requeued
    assert integrated.issues == ("local#1", "local#2", "local#3")
    task = engine.snapshot.tasks["local#3"]
    assert [attempt.outcome.value for attempt in task.history] == ["succeeded", "succeeded"] and task.reworks == 1
    shown = subprocess.run(["git", "show", "integration/v1.0:src/app.py"], cwd=repo, capture_output=True, text=True, check=True).stdout
    assert shown == "FROM = [1, 3]\n", "the agent's resolution is what was integrated"
