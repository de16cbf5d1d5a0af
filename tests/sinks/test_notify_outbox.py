"""Notifiers through the real outbox on a real store: nothing lost, nothing doubled, bursts in few messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from waterspider_tui.adapters.sinks.notify import DiscordChannel, NotifySink, SlackChannel, WebhookUrl
from waterspider_tui.adapters.sinks.outbox import Outbox
from waterspider_tui.core import events as ev

from .backlog import T0, failed, issue, ran, seen, started, succeeded
from .conftest import FakeTime, StoreFiles
from .webhook_receiver import WebhookReceiver

SECRET = "/slack/services/T000/B000/XXXXsecretXXXX"
DISCORD_SECRET = "/discord/api/webhooks/123/tokenSECRETtoken"


class Orchestrator:
    """A store, a notifier and its outbox, as the engine wires them."""

    def __init__(self, db: Path, url: str, test_time: FakeTime, *, discord: bool = False, **options: Any) -> None:
        self.files = StoreFiles(db)
        self.crashed = False
        self.warnings: list[str] = []
        webhook = WebhookUrl(url, "$WATERSPIDER_SLACK_WEBHOOK_URL")
        channel = DiscordChannel(webhook, clock=test_time.clock) if discord else SlackChannel(webhook, clock=test_time.clock)
        options.setdefault("digest_at_utc", "")
        self.sink = NotifySink(channel, log=self.files.log, cursors=self.files.cursors, clock=test_time.clock, **options)
        self.outbox = Outbox(
            self.files.log, self.sink, cursors=self.files.cursors, snapshot=lambda: self.files.state.snapshot,
            warn=self.warnings.append, clock=test_time.clock, sleep=test_time.sleep, jitter=lambda: 0.5,
        )

    def record(self, *events: ev.Event) -> None:
        self.files.state.record(events)

    async def close(self) -> None:
        """An orderly exit: what is held back is sent."""
        if not self.crashed:
            await self.sink.close()
            self.files.close()
        self.crashed = True

    async def crash(self) -> None:
        """Killed: nothing in memory is sent, only the store survives."""
        await self.sink.channel.close()
        self.files.close()
        self.crashed = True


@pytest.fixture
async def start(tmp_path: Path, receiver: WebhookReceiver, test_time: FakeTime):
    started_ones: list[Orchestrator] = []

    def make(path: str = SECRET, **options: Any) -> Orchestrator:
        started_ones.append(Orchestrator(tmp_path / "state.db", receiver.url(path), test_time, **options))
        return started_ones[-1]

    yield make
    for one in started_ones:
        await one.close()


def failure_count(payload: dict[str, Any]) -> int:
    """How many failures a Slack message accounts for: `N issues failed` in its header."""
    header = payload["blocks"][0]["text"]["text"]
    found = re.search(r"(\d+) issues? failed", header)
    return int(found.group(1)) if found else 0


def backlog(count: int) -> list[ev.Event]:
    return seen(*(issue(number, milestone=None) for number in range(1, count + 1))) + [started(number) for number in range(1, count + 1)]


async def test_a_notifier_answering_500_then_200_gets_the_message_once(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start()
    app.record(*backlog(1))
    receiver.script("/slack", 500)
    app.record(failed(1, test_time.now))
    assert await app.outbox.drain(deadline_s=120) == 0
    assert [item.status for item in receiver.requests] == [500, 200]
    [message] = receiver.accepted("/slack")
    assert failure_count(message) == 1 and "Task 1" in message["blocks"][1]["text"]["text"]
    assert len(app.warnings) == 1 and "answered 500" in app.warnings[0] and "nothing is lost" in app.warnings[0]
    assert app.sink.messages_sent == 1
    await app.outbox.drain(deadline_s=120)
    assert len(receiver.accepted()) == 1, "nothing is sent twice"


async def test_fifty_failures_in_ten_seconds_are_at_most_two_messages(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(gather_s=5, min_interval_s=60)
    app.record(*backlog(50))
    for number in range(1, 51):
        test_time.advance(0.2)
        app.record(failed(number, test_time.now))
        await app.outbox._step()
    assert await app.outbox.drain(deadline_s=300) == 0
    messages = receiver.accepted("/slack")
    assert 1 <= len(messages) <= 2
    assert sum(failure_count(message) for message in messages) == 50, "every failure is in one message or the other"
    listed = " ".join(block["text"]["text"] for message in messages for block in message["blocks"] if block["type"] == "section")
    assert "Task 1:" in listed and "more" in listed


def discord_failure_count(payload: dict[str, Any]) -> int:
    """How many failures a Discord message accounts for: `N issues failed` in its first embed's title."""
    found = re.search(r"(\d+) issues? failed", payload["embeds"][0]["title"])
    return int(found.group(1)) if found else 0


async def test_discord_answering_500_then_200_gets_the_embed_once(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(DISCORD_SECRET, discord=True)
    app.record(*backlog(1))
    receiver.script("/discord", 500)
    app.record(failed(1, test_time.now))
    assert await app.outbox.drain(deadline_s=120) == 0
    assert [item.status for item in receiver.requests] == [500, 204]
    [message] = receiver.accepted("/discord")
    assert discord_failure_count(message) == 1 and "Task 1" in message["embeds"][0]["description"]
    await app.outbox.drain(deadline_s=120)
    assert len(receiver.accepted()) == 1, "nothing is sent twice"


async def test_fifty_failures_in_ten_seconds_are_at_most_two_discord_messages(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(DISCORD_SECRET, discord=True, gather_s=5, min_interval_s=60)
    app.record(*backlog(50))
    for number in range(1, 51):
        test_time.advance(0.2)
        app.record(failed(number, test_time.now))
        await app.outbox._step()
    assert await app.outbox.drain(deadline_s=300) == 0
    messages = receiver.accepted("/discord")
    assert 1 <= len(messages) <= 2 and all(item.status == 204 for item in receiver.requests)
    assert sum(discord_failure_count(message) for message in messages) == 50, "every failure is in one message or the other"


async def test_a_burst_gathered_across_a_restart_is_sent_once(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    first = start(gather_s=30)
    first.record(*backlog(3))
    first.record(failed(1, test_time.now), failed(2, test_time.now))
    assert await first.outbox.drain(deadline_s=5) == 0, "taken from the store, put off to gather the burst"
    assert receiver.accepted() == [] and first.sink.due_at() == test_time.now + 30
    await first.crash()  # before the burst was sent

    test_time.advance(10)
    second = start(gather_s=30)
    second.record(failed(3, test_time.now))
    assert await second.outbox.drain(deadline_s=120) == 0
    [message] = receiver.accepted()
    assert failure_count(message) == 3, "the two put off before the restart and the new one"

    third = start(gather_s=30)
    assert await third.outbox.drain(deadline_s=120) == 0
    assert len(receiver.accepted()) == 1


async def test_a_message_sent_just_before_a_crash_is_not_sent_again(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    first = start(gather_s=0)
    first.record(*backlog(1))
    first.record(failed(1, test_time.now))
    stored = list(first.files.log.read(first.outbox.cursor))
    await first.sink.deliver([event for event in stored if first.sink.wants(event)], first.files.state.snapshot)
    assert len(receiver.accepted()) == 1  # sent, but the outbox never moved its cursor
    await first.crash()

    second = start(gather_s=0)
    assert second.outbox.pending() == 1
    assert await second.outbox.drain(deadline_s=60) == 0
    assert len(receiver.accepted()) == 1


async def test_a_rate_limit_is_waited_out(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(path=DISCORD_SECRET, discord=True, gather_s=0)
    receiver.retry_after_s = 7.5
    receiver.script("/discord", 429)
    app.record(*backlog(1))
    began = test_time.now
    app.record(failed(1, test_time.now))
    assert await app.outbox.drain(deadline_s=60) == 0
    assert [item.status for item in receiver.requests] == [429, 204]
    assert test_time.now - began >= 7.5
    assert "rate-limited" in app.warnings[0]


async def test_a_refused_webhook_is_a_warning_not_a_retry_loop(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(gather_s=0)
    receiver.script("/slack", 404)
    app.record(*backlog(2))
    app.record(failed(1, test_time.now))
    assert await app.outbox.drain(deadline_s=60) == 0
    assert len(receiver.requests) == 1 and "refused the message: 404" in app.warnings[0] and "1 notices dropped" in app.warnings[0]
    test_time.advance(120)
    app.record(failed(2, test_time.now))
    assert await app.outbox.drain(deadline_s=60) == 0
    assert len(receiver.accepted()) == 1, "the next message goes as usual"


async def test_the_webhook_url_never_shows(start, receiver: WebhookReceiver, test_time: FakeTime, tmp_path: Path) -> None:
    app = start(gather_s=0)
    receiver.script("/slack", 500, 500, 429)
    app.record(*backlog(1))
    app.record(failed(1, test_time.now))
    await app.outbox.drain(deadline_s=600)
    token = "XXXXsecretXXXX"
    assert app.warnings and all(token not in line for line in app.warnings)
    assert token not in repr(app.sink.channel.url) and token not in str(app.sink.channel.url)

    closed = httpx.AsyncClient()
    unreachable = SlackChannel(WebhookUrl(f"http://127.0.0.1:9{SECRET}", "$X"), client=closed)
    from waterspider_tui.adapters.sinks.base import SinkUnavailable
    from waterspider_tui.adapters.sinks.notify import compose
    with pytest.raises(SinkUnavailable) as caught:
        await unreachable.send(compose([]))
    assert token not in str(caught.value) and "127.0.0.1:9/…" in str(caught.value)
    await closed.aclose()


async def test_successes_and_retried_failures_send_nothing(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(gather_s=0, kinds=["failed"])
    app.record(*backlog(3))
    app.record(failed(1, test_time.now, will_retry=True), failed(2, test_time.now, host_wide=True), succeeded(3, test_time.now))
    assert app.outbox.pending() == 3
    assert await app.outbox.drain(deadline_s=60) == 0
    assert receiver.requests == []
    assert app.files.cursors.get("notify.slack:sent") == app.files.log.count()


async def test_a_new_notifier_does_not_tell_an_old_store_its_history(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(gather_s=0, stale_after_s=3600)
    app.record(*backlog(1), *ran(2, T0 - 7200, ok=False))
    app.record(failed(1, test_time.now))
    assert await app.outbox.drain(deadline_s=60) == 0
    [message] = receiver.accepted()
    assert failure_count(message) == 1


async def test_the_daily_digest_goes_out_at_its_time_and_a_missed_one_once_after_a_restart(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(gather_s=0, kinds=["digest"], digest_at_utc="09:00")  # the test clock starts at 08:00 UTC
    app.record(*seen(issue(1, milestone=None), issue(2, milestone=None), issue(3, milestone="v1.0")), *ran(1, test_time.now), *ran(2, test_time.now, ok=False))
    assert await app.outbox.drain(deadline_s=60) == 0
    assert receiver.accepted() == [] and app.sink.due_at() == T0 + 3600
    await app.outbox.drain(deadline_s=3700)
    [digest] = receiver.accepted()
    text = " ".join(block["text"]["text"] for block in digest["blocks"] if block["type"] == "section")
    assert digest["blocks"][0]["text"]["text"] == "daily digest"
    assert "1 succeeded, 1 failed; 0 running, 1 waiting" in text and "failed: #2 Task 2" in text and "v1.0: 0/1 done · 1 queued" in text
    await app.close()

    test_time.advance(3 * 86_400)  # down for three days
    again = start(gather_s=0, kinds=["digest"], digest_at_utc="09:00")
    assert again.sink.due_at() <= test_time.now
    await again.outbox.drain(deadline_s=60)
    assert len(receiver.accepted()) == 2, "one digest for the missed days, not three"


async def test_what_is_held_back_is_sent_at_an_orderly_exit(start, receiver: WebhookReceiver, test_time: FakeTime) -> None:
    app = start(gather_s=30)
    app.record(*backlog(1))
    app.record(failed(1, test_time.now))
    assert await app.outbox.drain(deadline_s=5) == 0 and receiver.accepted() == []
    await app.close()
    [message] = receiver.accepted()
    assert failure_count(message) == 1
    again = start(gather_s=30)
    assert await again.outbox.drain(deadline_s=120) == 0
    assert len(receiver.accepted()) == 1, "the ledger knows it went out"
