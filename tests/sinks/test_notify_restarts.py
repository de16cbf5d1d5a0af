"""A channel across runs: turned on late it starts from now; after a restart its last word about a host is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from waterspider_tui.adapters.sinks.notify import NoticeFinder, compose
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import HostStatus
from waterspider_tui.core.state import Snapshot

from .backlog import T0, failed, issue, ran, seen, snapshot_of, started, succeeded
from .conftest import FakeTime, StoreFiles
from .test_notify_notices import numbered, told
from .test_notify_outbox import SECRET, Orchestrator
from .webhook_receiver import WebhookReceiver


def probe(name: str, ts: float, *, reachable: bool) -> ev.HostProbed:
    error = "" if reachable else f"{name}: nothing listens on {name}:22"  # as the SSH executor says it
    return ev.HostProbed(ts=ts, host=HostStatus(name=name, slots_total=2, reachable=reachable, error=error, probed_at=ts))


def integrated(milestone: str, ts: float, *, again: bool = False) -> ev.MilestoneIntegrated:
    return ev.MilestoneIntegrated(
        ts=ts, repo="local", milestone=milestone, branch=f"integration/{milestone}", issues=("local#1",), head="ba84fe4995",
        summary=f"milestone {milestone}: 1 issue integrated into integration/{milestone} at ba84fe4995" + (" (already up to date)" if again else ""),
    )


def told_text(payload: dict[str, Any]) -> str:
    return " ".join(block["text"]["text"] for block in payload["blocks"] if block["type"] in ("header", "section"))


@pytest.fixture
async def start(tmp_path: Path, receiver: WebhookReceiver, test_time: FakeTime):
    started_ones: list[Orchestrator] = []

    def make(**options: Any) -> Orchestrator:
        started_ones.append(Orchestrator(tmp_path / "state.db", receiver.url(SECRET), test_time, **options))
        return started_ones[-1]

    yield make
    for one in started_ones:
        await one.close()


async def test_a_channel_turned_on_for_the_first_time_starts_from_now(start, tmp_path: Path, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    earlier = StoreFiles(tmp_path / "state.db")  # runs without webhooks: history the channel never saw
    earlier.state.record([
        *seen(issue(1, milestone="v1.0"), issue(2, milestone="v2.0"), issue(3, milestone=None)),
        probe("mini-1", T0, reachable=False), probe("mini-2", T0, reachable=False),
        ev.DispatcherPaused(ts=T0, by="hosts down", reason="no host answers"),
        probe("mini-1", T0 + 60, reachable=True), ev.DispatcherResumed(ts=T0 + 60, by="mini-1 answers again"),
        *ran(1, T0 + 100), *ran(2, T0 + 100, ok=False), integrated("v1.0", T0 + 120),
    ])
    earlier.close()

    test_time.advance(600)
    app = start(gather_s=0)
    assert app.outbox.pending() == 0, "nothing from before the channel was on is owed to it"
    app.record(started(3, test_time.now), failed(3, test_time.now))
    assert await app.outbox.drain(deadline_s=60) == 0
    [message] = receiver.accepted()
    text = told_text(message)
    assert message["blocks"][0]["text"]["text"] == "1 issue failed · run idle", "the run is idle now: a summary of now, once"
    assert "Task 3: max_turns" in text
    for history in ("Task 2: max_turns", "v1.0", "mini-1", "mini-2", "hosts down"):
        assert history not in text, f"{history!r} is from before the channel was on: {text}"


async def test_after_a_restart_a_host_healthy_again_is_told_reachable_again(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    first = start(gather_s=0, kinds=["host_down"])
    first.record(probe("mini-2", test_time.now, reachable=False))
    assert await first.outbox.drain(deadline_s=60) == 0
    [down] = receiver.accepted()
    assert down["blocks"][0]["text"]["text"] == "mini-2 unreachable: nothing listens on mini-2:22", "the host is named once"
    await first.close()

    test_time.advance(300)  # restarted once mini-2 answers again
    second = start(gather_s=0, kinds=["host_down"])
    second.record(probe("mini-2", test_time.now, reachable=True))
    assert await second.outbox.drain(deadline_s=60) == 0
    assert len(receiver.accepted()) == 2, "the channel's last word about mini-2 was 'unreachable'"
    assert "mini-2 reachable again" in told_text(receiver.accepted()[-1])


async def test_after_a_crash_the_last_word_is_read_from_the_log_too(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    first = start(gather_s=0, kinds=["host_down"])
    first.record(probe("mini-1", test_time.now, reachable=False), probe("mini-2", test_time.now, reachable=False))
    assert await first.outbox.drain(deadline_s=60) == 0
    await first.crash()

    test_time.advance(300)
    second = start(gather_s=0, kinds=["host_down"])
    second.record(probe("mini-2", test_time.now, reachable=True))
    assert await second.outbox.drain(deadline_s=60) == 0
    [_, back] = receiver.accepted()
    assert back["blocks"][0]["text"]["text"] == "mini-2 reachable again", "mini-1 is still down: not told again"


def test_the_title_counts_hosts_and_milestones_not_notices() -> None:
    finder = NoticeFinder(kinds=["host_down", "milestone", "paused"])
    history = seen(issue(1, milestone="v1.0"), issue(2, milestone="v2.0"), issue(3, milestone="v3.0"))
    batch = [
        probe("mini-1", T0, reachable=False), probe("mini-2", T0, reachable=False),
        probe("mini-1", T0 + 30, reachable=True), probe("mini-2", T0 + 30, reachable=True),
        started(1), succeeded(1, T0 + 40), started(2), succeeded(2, T0 + 40), started(3), succeeded(3, T0 + 40),
        integrated("v2.0", T0 + 50), integrated("v2.0", T0 + 60), integrated("v2.0", T0 + 70, again=True),
    ]
    events = numbered(history + batch)
    notices = finder.find(events[len(history):], snapshot_of(events))
    message = compose(notices, now=T0)
    assert message.title == "2 hosts · 3 milestones", message.title
    lines = [(line.label, line.text) for section in message.sections for line in section.lines]
    assert len(lines) == len(set(lines)), f"a line is said once per message: {lines}"
    assert not any("already up to date" in text for _, text in lines), "integrated again at the same head is no news"


def test_one_host_down_and_back_in_one_message_is_titled_with_its_latest_news() -> None:
    finder = NoticeFinder(kinds=["host_down"])
    notices = finder.find(numbered([probe("mini-2", T0, reachable=False), probe("mini-2", T0 + 30, reachable=True)]), Snapshot())
    assert compose(notices, now=T0).title == "mini-2 reachable again"


def test_a_pause_while_no_host_answers_and_its_end_are_told() -> None:
    batch = [
        ev.DispatcherPaused(ts=T0, by="hosts down", reason="no host can be reached: mini-1, mini-2"),
        ev.DispatcherResumed(ts=T0 + 60, by="mini-1 answers again"),
    ]
    assert told(NoticeFinder(kinds=["paused"]), [], batch) == [
        ("paused", "dispatch", "paused (hosts down): no host can be reached: mini-1, mini-2"),
        ("paused", "dispatch", "resumed (mini-1 answers again)"),
    ]
    finder = NoticeFinder(kinds=["paused"])
    message = compose(finder.find(numbered(batch), Snapshot()), now=T0)
    assert message.title == "dispatch resumed (mini-1 answers again)"
    assert message.plain_lines()[1:] == [
        "dispatch:", "  dispatch paused (hosts down): no host can be reached: mini-1, mini-2", "  dispatch resumed (mini-1 answers again)",
    ]


def test_an_issue_failing_twice_in_one_message_is_one_issue_failed() -> None:
    finder = NoticeFinder(kinds=["failed"])
    history = seen(issue(1, milestone=None), issue(2, milestone=None))
    batch = [started(1), failed(1, T0 + 10), started(2), failed(2, T0 + 10), started(1, T0 + 20, attempt=2), failed(1, T0 + 30, attempt=2)]
    events = numbered(history + batch)
    message = compose(finder.find(events[len(history):], snapshot_of(events)), now=T0)
    assert message.title == "2 issues failed", message.title
