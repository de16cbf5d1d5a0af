"""A rate limit and a long outage mid-run: the run waits, says why, and loses or repeats nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from tests.git_checkout import make_checkout
from tests.github.conftest import FakeTime
from tests.github.fake_github import DEFAULT_TOKEN, seed_backlog, start_fake_github
from tests.waiting import until
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github import GitHubClient, GitHubIssueSource, GitHubSink
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, open_store
from waterspider_tui.reporting.progress_comment import ProgressCommentRenderer

REPO = "octo/widgets"
OUTAGE_S = 300.0


async def test_rate_limit_then_five_minutes_of_502s(tmp_path: Path) -> None:
    fake_time = FakeTime()
    _, github = start_fake_github(real_time=fake_time.clock)
    try:
        issues = seed_backlog(github, REPO, 12)
        client = GitHubClient(github.base_url, DEFAULT_TOKEN, min_write_interval=0.01, sleep=fake_time.sleep, clock=fake_time.clock, max_wait_s=30.0)
        source = GitHubIssueSource(client, (REPO,), clock=fake_time.clock)
        sink = GitHubSink(client, (REPO,), renderer=ProgressCommentRenderer(), comment_interval_s=0.0, clock=fake_time.clock)
        engine = Engine(
            store=open_store(tmp_path / "state.db"), sources=[(source, 0.05)],
            agent=make_agent("simulated", {"duration_s": 0.3}, EnvPolicy()),
            pool=ExecutorPool([LocalExecutor(WorkspaceManager(make_checkout(tmp_path / "widgets")), tmp_path / "sessions", slots=3)]),
            scheduler=SchedulerConfig(capacity=3), sinks=[sink], on_close=[client.aclose],
        )
        seen: list[ev.Event] = []
        engine.store.subscribe(lambda snapshot, events: seen.extend(events))
        runner = asyncio.create_task(engine.run(until_idle=True))


        await until(lambda: any(t.state is TaskState.SUCCEEDED for t in engine.snapshot.tasks.values()))
        # A rate limit with a long retry-after: the source reports the wait and its end.
        github.inject(403, retry_after=600, message="You have exceeded a secondary rate limit", path_contains="/issues?")
        await until(lambda: any(isinstance(e, ev.SourcePolled) and e.wait_until for e in seen))
        wait = next(e for e in seen if isinstance(e, ev.SourcePolled) and e.wait_until)
        assert wait.wait_until is not None and wait.wait_until >= fake_time.now + 500
        fake_time.advance(601)
        # Then five minutes of 502s on every read, in test time.
        outage = github.inject(502, times=10_000, method="GET")
        outage_end = fake_time.now + OUTAGE_S
        while fake_time.now < outage_end:
            fake_time.advance(15)
            await asyncio.sleep(0.02)
        outage.times = 0
        github.faults.clear()
        await asyncio.wait_for(runner, 120)

        warned = [e.message for e in seen if isinstance(e, ev.Warned)]
        assert any("keeping the last good list" in message for message in warned)
        failed_polls = [e for e in seen if isinstance(e, ev.SourcePolled) and not e.ok and not e.wait_until]
        assert failed_polls and "502" in failed_polls[0].message, [e.message for e in failed_polls]
        started = Counter(e.issue for e in seen if isinstance(e, ev.SessionStarted))
        assert set(started) == {f"{REPO}#{issue.number}" for issue in issues}
        assert all(count == 1 for count in started.values()), started
        assert all(task.state is TaskState.SUCCEEDED for task in engine.snapshot.tasks.values())
        for issue in issues:
            mine = [c for c in github.comments_on(REPO, issue.number) if c.user == "waterspider-bot"]
            assert len(mine) == 1
            assert "agent:done" in github.issue(REPO, issue.number).labels
    finally:
        github.stop()
