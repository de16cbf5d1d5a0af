"""A failed GitHub poll tells the truth: whether a good list is kept, and when the next poll really starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.git_checkout import make_checkout
from tests.github.conftest import FakeTime
from tests.github.fake_github import DEFAULT_TOKEN, seed_backlog, start_fake_github
from tests.waiting import until
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github import GitHubClient, GitHubIssueSource
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, open_store
from waterspider_tui.engine.loops import next_poll_wait

REPO = "octo/widgets"
INTERVAL_S = 15.0


class _FakeTimeClock:
    def __init__(self, fake_time: FakeTime) -> None:
        self.fake_time = fake_time

    def now(self) -> float:
        return self.fake_time.now


async def test_a_first_poll_that_fails_says_no_list_is_kept_and_when_the_next_starts(tmp_path: Path) -> None:
    fake_time = FakeTime()
    _, github = start_fake_github(real_time=fake_time.clock)
    try:
        seed_backlog(github, REPO, 2)
        github.inject(502, times=10_000, method="GET")
        client = GitHubClient(github.base_url, DEFAULT_TOKEN, sleep=fake_time.sleep, clock=fake_time.clock, max_wait_s=30.0)
        engine = Engine(
            store=open_store(tmp_path / "state.db"), sources=[(GitHubIssueSource(client, (REPO,), clock=fake_time.clock), INTERVAL_S)],
            agent=make_agent("simulated", {"duration_s": 0.1}, EnvPolicy()),
            pool=ExecutorPool([LocalExecutor(WorkspaceManager(make_checkout(tmp_path / "widgets")), tmp_path / "sessions", slots=1)]),
            scheduler=SchedulerConfig(capacity=1), clock=_FakeTimeClock(fake_time), on_close=[client.aclose],
        )
        seen: list[ev.Event] = []
        engine.store.subscribe(lambda snapshot, events: seen.extend(events))
        started = fake_time.now
        runner = asyncio.create_task(engine.run())
        await until(lambda: any(isinstance(e, ev.Warned) and "502" in e.message for e in seen))
        await engine.stop(leave_running=False)
        await runner
    finally:
        github.stop()
    warning = next(e.message for e in seen if isinstance(e, ev.Warned) and "502" in e.message)
    assert warning.endswith("(no good poll yet: no issues from it)"), warning
    failed = next(e for e in seen if isinstance(e, ev.SourcePolled) and not e.ok)
    took = failed.ts - started
    assert took > 0, "the client's retries took time of their own"
    assert failed.next_poll == (started + INTERVAL_S if took < INTERVAL_S / 2 else failed.ts + INTERVAL_S / 2)
    assert failed.next_poll - failed.ts < INTERVAL_S, "the retries' time counts toward the interval"


def test_polls_start_an_interval_apart_and_rest_at_least_half_of_one() -> None:
    assert next_poll_wait(started=100.0, now=105.0, interval=15.0) == 10.0
    assert next_poll_wait(started=100.0, now=100.0, interval=15.0) == 15.0
    assert next_poll_wait(started=100.0, now=140.0, interval=15.0) == 7.5
