"""A GitHub source that never answers: `--until-idle` ends after a few polls with exit 1 and says
why; a refused token says to check it (once); a refused connection is told at once, not after
retries hidden inside the poll, so "retry in Ns" is when the next line comes."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from tests.git_checkout import make_checkout
from tests.github.fake_github import DEFAULT_TOKEN, seed_backlog, start_fake_github
from tests.ports import reserve_port
from waterspider_tui.adapters.agents.base import EnvPolicy
from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.github import GitHubClient, GitHubIssueSource
from waterspider_tui.adapters.workspace import WorkspaceManager
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.engine import Engine, open_store
from waterspider_tui.engine.idle_end import NEVER_ANSWERED_POLLS
from waterspider_tui.exit_codes import EXIT_NOT_DONE
from waterspider_tui.headless import run_headless

REPO = "acme/widgets"


class Sleeps:
    """The client's sleep: counted, and not slept (a retry inside a poll is what is looked for)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def engine_for(tmp_path: Path, client: GitHubClient) -> Engine:
    return Engine(
        store=open_store(tmp_path / "state.db"), sources=[(GitHubIssueSource(client, (REPO,)), 0.05)],
        agent=make_agent("simulated", {"duration_s": 0.1}, EnvPolicy()),
        pool=ExecutorPool([LocalExecutor(WorkspaceManager(make_checkout(tmp_path / "widgets")), tmp_path / "sessions", slots=1)]),
        scheduler=SchedulerConfig(capacity=1), on_close=[client.aclose],
    )


async def test_until_idle_ends_with_exit_1_when_the_source_never_answers(tmp_path: Path) -> None:
    client = GitHubClient(f"http://127.0.0.1:{reserve_port()}", "bad", sleep=Sleeps())
    engine = engine_for(tmp_path, client)
    seen: list[ev.Event] = []
    engine.store.subscribe(lambda snapshot, events: seen.extend(events))
    out = io.StringIO()
    code = await asyncio.wait_for(run_headless(engine, out=out), timeout=30)
    assert code == EXIT_NOT_DONE
    failed = [e for e in seen if isinstance(e, ev.SourcePolled) and not e.ok]
    assert len(failed) >= NEVER_ANSWERED_POLLS
    text = out.getvalue()
    assert f"github never answered in {NEVER_ANSWERED_POLLS} polls" in text, text
    summary = next(line for line in text.splitlines() if line.startswith("summary:"))
    assert summary.startswith("summary: not done: github never answered") and "no issues" not in summary, summary


async def test_a_refused_token_says_to_check_it_once(tmp_path: Path) -> None:
    _, github = start_fake_github()
    try:
        seed_backlog(github, REPO, 2)
        client = GitHubClient(github.base_url, "not-a-token", sleep=Sleeps())
        engine = engine_for(tmp_path, client)
        seen: list[ev.Event] = []
        engine.store.subscribe(lambda snapshot, events: seen.extend(events))
        code = await asyncio.wait_for(run_headless(engine, out=io.StringIO()), timeout=30)
    finally:
        github.stop()
    assert code == EXIT_NOT_DONE
    hints = [e.message for e in seen if isinstance(e, ev.Warned) and "check the token" in e.message]
    assert len(hints) == 1, hints
    assert "401 Bad credentials" in hints[0] and "GITHUB_TOKEN" in hints[0]
    assert not any("check the token" in e.message for e in seen if isinstance(e, ev.SourcePolled))


async def test_a_refused_connection_fails_the_poll_at_once(tmp_path: Path) -> None:
    sleeps = Sleeps()
    client = GitHubClient(f"http://127.0.0.1:{reserve_port()}", DEFAULT_TOKEN, sleep=sleeps)
    try:
        result = await GitHubIssueSource(client, (REPO,)).poll()
    finally:
        await client.aclose()
    assert not result.ok and "ConnectError" in result.message
    assert sleeps.calls == [], "the poll loop is the retry: its 'retry in' is when the next attempt is told"
