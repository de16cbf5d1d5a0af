"""GitHub writes are durable and complete: bursts coalesce, a restart finishes what was stored, outages wait."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from waterspider_tui.core import events as ev

from .fake_github import FakeGitHub
from .sink_harness import REPO, TRIGGER, Orchestrator, labels_on, new_story, ours, writes
from .snapshots import Story, failed, succeeded

COUNT = 40


@pytest.fixture
def repo(github: FakeGitHub) -> FakeGitHub:
    github.add_repo(REPO, collaborators={"maintainer": "write"})
    github.add_label(REPO, TRIGGER)
    return github


@pytest.fixture
def start(tmp_path: Path, make_client, fake_time):
    started: list[Orchestrator] = []

    def make(**options) -> Orchestrator:
        client_options = options.pop("client", {})
        if started:
            started[-1].close()
        clock = options.pop("fake_time", fake_time)
        started.append(Orchestrator(tmp_path / "state.db", make_client(**client_options), clock, **options))
        return started[-1]

    yield make
    started[-1].close()


def stories(github: FakeGitHub, count: int = COUNT) -> list[Story]:
    return [new_story(github, assignees=("dev",), title=f"Task {index}") for index in range(count)]


def session_id(story: Story) -> str:
    return f"s-{story.issue.number}"


def life_after_start(story: Story) -> list[ev.Event]:
    """Three progress reports and the end: every third session fails."""
    sid = session_id(story)
    steps = [story.progressed(sid, turns=turn, phase="implementing", phases_done=1)[0] for turn in (3, 6, 9)]
    result = failed() if story.issue.number % 3 == 0 else succeeded()
    return steps + [story.finished(result, sid)[0]]


def assert_final(github: FakeGitHub, story: Story) -> None:
    number = story.issue.number
    comments = ours(github, number, lambda body: body.startswith(f"<!-- waterspider:session={session_id(story)} -->"))
    notices = ours(github, number, lambda body: body.startswith("<!-- waterspider:failure"))
    assert len(comments) == 1, f"#{number} has {len(comments)} progress comments"
    if number % 3 == 0:
        assert "failed (attempt 1)" in comments[0] and labels_on(github, number) == {"agent:failed"}
        assert len(notices) == 1 and "@dev" in notices[0]
    else:
        assert "succeeded (attempt 1)" in comments[0] and labels_on(github, number) == {"agent:done"}
        assert notices == []


async def test_a_burst_of_finishing_sessions_costs_one_write_per_comment_and_label(repo: FakeGitHub, start) -> None:
    backlog = stories(repo)
    app = start(comment_interval_s=20)
    await app.tell(*(step for story in backlog for step in (story.seen(), story.started(session_id(story)))))
    assert all(labels_on(repo, story.issue.number) == {"agent:running"} for story in backlog)
    repo.reset_counts()

    burst = [event for story in backlog for event in life_after_start(story)]
    assert len(burst) == 4 * COUNT
    assert await app.tell(*burst) == 0

    failures = sum(1 for story in backlog if story.issue.number % 3 == 0)
    assert repo.count("PATCH", r"/issues/comments/") == COUNT, "one edit per comment, not one per event"
    assert repo.count("POST", r"/issues/\d+/comments$") == failures, "the @mention notices"
    assert writes(repo, r"/labels") == 2 * COUNT, "each issue's label moved once: running off, done or failed on"
    assert writes(repo) <= COUNT + failures + 2 * COUNT
    for story in backlog:
        assert_final(repo, story)
    assert not app.warnings


async def test_a_whole_backlog_stored_before_any_delivery_is_written_in_its_final_state(repo: FakeGitHub, start) -> None:
    backlog = stories(repo, 12)
    app = start()
    app.record(*(step for story in backlog for step in (story.seen(), story.started(session_id(story)))))
    app.record(*(event for story in backlog for event in life_after_start(story)))
    assert await app.outbox.drain() == 0
    assert repo.count("PATCH") == 0, "each comment is posted already saying how it ended"
    assert repo.count("POST", r"/issues/\d+/labels$") == 12 and repo.count("DELETE") == 0
    for story in backlog:
        assert_final(repo, story)


async def test_a_restart_writes_the_stored_ends_once_and_duplicates_nothing(repo: FakeGitHub, start) -> None:
    backlog = stories(repo, 12)
    first = start()
    await first.tell(*(step for story in backlog for step in (story.seen(), story.started(session_id(story)))))
    first.record(*(event for story in backlog for event in life_after_start(story)))
    # Killed mid-batch: half the final writes reached GitHub, the cursor never moved.
    undelivered = list(first.log.read(first.outbox.cursor))
    half = {f"{REPO}#{story.issue.number}" for story in backlog[:6]}
    await first.sink.deliver([event for event in undelivered if event.issue_key in half], first.store.snapshot)
    assert first.outbox.pending() == len(undelivered)
    done_before = repo.count("PATCH")

    second = start()
    assert second.outbox.pending() == len(undelivered)
    assert await second.outbox.drain() == 0
    assert repo.count("PATCH") - done_before == 6, "only the comments not yet final are edited"
    for story in backlog:
        assert_final(repo, story)

    repo.reset_counts()
    third = start()
    assert third.outbox.pending() == 0
    assert await third.outbox.drain() == 0
    assert repo.count() == 0


async def test_rate_limit_and_502s_for_a_while_then_everything_is_delivered(repo: FakeGitHub, start, fake_time) -> None:
    backlog = stories(repo, 9)
    app = start(client={"max_wait_s": 30.0})
    await app.tell(*(step for story in backlog for step in (story.seen(), story.started(session_id(story)))))
    limited_until = fake_time.now + 120
    repo.inject(403, retry_after=120, message="You have exceeded a secondary rate limit")
    repo.inject(502, times=25)
    wake = asyncio.Event()
    runner = asyncio.create_task(app.outbox.run(wake))
    try:
        app.record(*(event for story in backlog for event in life_after_start(story)))
        wake.set()
        deadline = time.monotonic() + 20
        while app.outbox.pending() or not all(labels_on(repo, s.issue.number) & {"agent:done", "agent:failed"} for s in backlog):
            assert time.monotonic() < deadline, f"still pending: {app.outbox.pending()}"
            await asyncio.sleep(0.02)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert not repo.faults, "the outage was used up"
    assert fake_time.now >= limited_until
    assert any(sleep >= 120 for sleep in fake_time.sleeps), "the outbox waited for the limit's reset"
    assert any("rate limit" in warning and "nothing is lost" in warning for warning in app.warnings)
    for story in backlog:
        assert_final(repo, story)


async def test_drain_within_a_deadline_says_what_is_left_and_a_later_drain_finishes(repo: FakeGitHub, start) -> None:
    backlog = stories(repo, 12)
    # Real time: about 30 writes, 0.1 s apart, cannot all be done within the 0.4 s deadline.
    app = start(fake_time=None, client={"min_write_interval": 0.1, "sleep": asyncio.sleep, "clock": time.time})
    app.record(*(step for story in backlog for step in (story.seen(), story.started(session_id(story)))))
    app.record(*(event for story in backlog for event in life_after_start(story)))
    progress: list[tuple[int, int]] = []
    left = await app.outbox.drain(deadline_s=0.4, progress=lambda done, total: progress.append((done, total)))
    assert writes(repo) < 12 * 2
    assert 0 < left == app.outbox.pending()
    assert progress[0] == (0, 12 * 6)
    assert await app.outbox.drain(deadline_s=60) == 0
    for story in backlog:
        assert_final(repo, story)
