"""The exit of a run with a notifier: what it says it waits for, what a new start is told meanwhile, and no problem left behind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.engine.conftest import write_issue
from tests.git_checkout import make_checkout
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.local_issues import LocalIssueSource
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.sinks.notify import NotifySink, SlackChannel, WebhookUrl
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, EngineLocked, SessionPolicy, open_store
from waterspider_tui.engine.locks import run_locks
from waterspider_tui.store.sink_cursors import SinkCursors

from .webhook_receiver import WebhookReceiver


def notified_lines(payload: dict) -> list[str]:
    """The bulleted lines of a Slack message: one per notice."""
    return [row for block in payload["blocks"] if block["type"] == "section" for row in block["text"]["text"].split("\n") if row.startswith("•")]


async def run_with_a_failure(tmp_path: Path, receiver: WebhookReceiver, on_event) -> Engine:
    """One run: #1's agent fails for good; the notifier gathers for 30 s, so its message is still held at the end."""
    repo = make_checkout(tmp_path / "repo")
    (tmp_path / "issues").mkdir()
    write_issue(tmp_path / "issues", 1)
    store_path = tmp_path / "state" / "state.db"
    store = open_store(store_path)
    marks = SinkCursors(store_path)
    notifier = NotifySink(
        SlackChannel(WebhookUrl(receiver.url("/slack/T/B/secret"), "$WATERSPIDER_SLACK_WEBHOOK_URL")),
        gather_s=30, min_interval_s=60, digest_at_utc="", log=store.log, cursors=marks,
    )
    executor = LocalExecutor(WorkspaceManager(repo), tmp_path / "state" / "sessions", slots=1)
    engine = Engine(
        locks=run_locks(store_path, Path(executor.workspace.repo.common_dir), repo), store=store,
        sources=[(LocalIssueSource(tmp_path / "issues"), 0.2)],
        agent=make_agent("command", {"argv": ["false"]}, EnvPolicy()),
        pool=ExecutorPool([executor]), scheduler=SchedulerConfig(capacity=1), policy=SessionPolicy(max_attempts=1),
        steps=make_steps(["commits"]), sinks=[notifier],
    )
    engine.store.subscribe(lambda snapshot, events: on_event(engine, events))
    try:
        await asyncio.wait_for(engine.run(until_idle=True), 60)
    finally:
        marks.close()
    return engine


async def test_the_exit_counts_what_it_really_sends_and_a_new_start_is_told_what_it_waits_for(tmp_path: Path, receiver: WebhookReceiver) -> None:
    exit_lines: list[str] = []
    refusals: list[str] = []

    def on_event(engine: Engine, events: list[ev.Event]) -> None:
        for event in events:
            if isinstance(event, ev.Warned) and "before exit" in event.message:
                exit_lines.append(event.message)
                second = run_locks(engine.store.log.path)
                with pytest.raises(EngineLocked) as refused:
                    second.acquire()
                refusals.append(str(refused.value))

    engine = await run_with_a_failure(tmp_path, receiver, on_event)
    [message] = receiver.accepted("/slack")
    owed = len(notified_lines(message))
    assert owed >= 1 and "1 issue failed" in message["blocks"][0]["text"]["text"]
    assert exit_lines == [f"notify.slack: writing {owed} pending update{'s' if owed != 1 else ''} before exit (up to 30s)"], exit_lines
    [refusal] = refusals
    assert refusal.startswith(f"another waterspider is running on {engine.store.log.path}; it is ending (pid {os.getpid()}): ")
    assert "notify.slack" in refusal and "before exit" in refusal, refusal

    second = run_locks(engine.store.log.path)
    second.acquire()  # the run has ended: its lock is free
    second.release()
    engine.store.log.close()
    again = open_store(engine.store.log.path)
    try:
        assert [warning for warning in again.snapshot.warnings if "before exit" in warning] == [], "news of that exit only, not a problem for every start after"
    finally:
        again.log.close()


def test_a_lock_left_by_a_killed_run_says_nothing_of_it(tmp_path: Path) -> None:
    store_path = tmp_path / "state.db"
    first = run_locks(store_path)
    first.acquire()
    first.say("writing 3 pending updates before exit")
    os.close(first._held.pop())  # as kill -9 would: the lock goes, the words stay in the file
    second = run_locks(store_path)
    second.acquire()
    third = run_locks(store_path)
    with pytest.raises(EngineLocked) as refused:
        third.acquire()
    assert str(refused.value) == f"another waterspider is running on {store_path}", "a running orchestrator is not said to be ending"
    second.release()
