"""Slack and Discord payloads, posted to a loopback receiver that accepts only the documented shapes."""

from __future__ import annotations

import httpx
import pytest

from waterspider_tui.adapters.sinks.notify import (
    DiscordChannel, Notice, NoticeKind, SlackChannel, WebhookUrl, compose, discord_payload, slack_payload,
)
from waterspider_tui.adapters.sinks.notify.webhook import SecretError, find_webhook_url

from .backlog import T0
from .webhook_receiver import Invalid, WebhookReceiver, check_discord, check_slack

HOSTILE = "<!channel> @everyone **bold** [click](https://evil.example) & <@U999> `code` | > quote"


def failure(number: int, title: str = "", text_size: int = 0) -> Notice:
    title = title or f"Task {number}" + "x" * text_size
    return Notice(
        f"{number}:failed", NoticeKind.FAILED, T0 + number, number, f"#{number}", f"{title}: max_turns",
        f"https://github.com/acme/app/issues/{number}", "error", needs_operator=True,
        hint="max_turns: The agent ran out of turns. Split the issue into smaller ones or raise max_turns, then requeue.",
    )


def every_kind() -> list[Notice]:
    return [
        failure(1), failure(2),
        Notice("3:paused", NoticeKind.PAUSED, T0, 3, "dispatch", "paused (limit): usage_limit: waiting for the reset; resumes at 14:05 UTC", severity="warning"),
        Notice("4:host", NoticeKind.HOST_DOWN, T0, 4, "mini-2", "unreachable: connection refused", severity="error", needs_operator=True),
        Notice("5:held", NoticeKind.OPERATOR, T0, 5, "#7", "Fix login: held, labeled by a stranger", severity="warning", needs_operator=True),
        Notice("6:milestone", NoticeKind.MILESTONE, T0, 6, "v1.0", "complete: 5 issues done", severity="info"),
        Notice("7:idle", NoticeKind.IDLE, T0, 7, "run", "nothing left to run: 3 succeeded, 2 failed", severity="info", details=("failed: #1 Task 1",)),
        Notice("digest:1", NoticeKind.DIGEST, T0, 0, "last 24h", "3 succeeded, 2 failed", severity="info", details=("v1.0: 3/5 done",)),
    ]


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as opened:
        yield opened


async def test_every_kind_reaches_slack_and_discord_as_one_message_each(receiver: WebhookReceiver, client) -> None:
    message = compose(every_kind(), mentions=["<@U024BE7LH>"], now=T0)
    await SlackChannel(WebhookUrl(receiver.url("/slack/T/B/x"), "$S"), client=client).send(message)
    await DiscordChannel(WebhookUrl(receiver.url("/discord/1/x"), "$D"), client=client).send(message)
    assert [item.status for item in receiver.requests] == [200, 204], [item.error for item in receiver.requests]
    slack, discord = receiver.accepted("/slack")[0], receiver.accepted("/discord")[0]
    assert slack["text"].startswith("<@U024BE7LH> 2 issues failed")
    header = slack["blocks"][0]["text"]["text"]
    assert len(message.title) > 150 and len(header) == 150 and header.endswith("…") and message.title.startswith(header[:-1])
    assert slack["blocks"][-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "waterspider · 2027-01-15 08:00 UTC"}]}
    assert [embed["title"] for embed in discord["embeds"]] == ["2 issues failed", "dispatch", "host", "needs you", "milestone", "run idle", "daily digest"]
    assert discord["allowed_mentions"] == {"parse": [], "users": [], "roles": []}, "a Slack id is no Discord user"
    assert "[\\#1](https://github.com/acme/app/issues/1)" not in discord["embeds"][0]["description"]
    assert "• [#1](https://github.com/acme/app/issues/1) Task 1: max\\_turns" in discord["embeds"][0]["description"]
    assert discord["embeds"][0]["description"].count("The agent ran out of turns") == 1, "the shared advice is said once"


async def test_a_huge_burst_stays_within_every_limit(receiver: WebhookReceiver, client) -> None:
    notices = [failure(number, text_size=900) for number in range(1, 501)] + every_kind()[2:]
    message = compose(notices, max_lines=40, now=T0)
    slack, discord = slack_payload(message), discord_payload(message)
    check_slack(slack)
    check_discord(discord)
    await SlackChannel(WebhookUrl(receiver.url("/slack/T/B/x"), "$S"), client=client).send(message)
    await DiscordChannel(WebhookUrl(receiver.url("/discord/1/x"), "$D"), client=client).send(message)
    assert [item.status for item in receiver.requests] == [200, 204], [item.error for item in receiver.requests]
    assert "… and" in discord["embeds"][0]["description"] and "more" in discord["embeds"][0]["description"]
    assert sum(len(embed["title"]) + len(embed["description"]) + len(embed.get("footer", {}).get("text", "")) for embed in discord["embeds"]) <= 6000


def test_issue_text_cannot_ping_format_or_link() -> None:
    message = compose([failure(1, title=HOSTILE)], now=T0)
    slack = slack_payload(message)
    line = slack["blocks"][1]["text"]["text"]
    assert "<!channel>" not in line and "&lt;!channel&gt;" in line and "&lt;@U999&gt;" in line and "&amp;" in line
    discord = discord_payload(message)
    description = discord["embeds"][0]["description"]
    assert "\\*\\*bold\\*\\*" in description and "\\[click\\]" in description
    assert discord["allowed_mentions"]["parse"] == [], "@everyone in a title pings nobody"


def test_mentions_are_added_only_when_someone_must_act() -> None:
    quiet = compose([every_kind()[5]], mentions=["<@&42>", "<@77>"], now=T0)
    assert quiet.mentions == ()
    loud = compose([failure(1)], mentions=["<@&42>", "<@77>", "@here"], now=T0)
    payload = discord_payload(loud)
    assert payload["content"].startswith("<@&42> <@77> @here **1 issue failed**")
    assert payload["allowed_mentions"] == {"parse": ["everyone"], "users": ["77"], "roles": ["42"]}
    check_discord(payload)


def test_the_receiver_refuses_what_the_services_refuse() -> None:
    with pytest.raises(Invalid, match="no_text"):
        check_slack({"text": ""})
    with pytest.raises(Invalid, match="150"):
        check_slack({"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]})
    with pytest.raises(Invalid, match="1..50"):
        check_slack({"text": "x", "blocks": [{"type": "divider"}] * 51})
    with pytest.raises(Invalid, match="empty"):
        check_discord({"username": "waterspider"})
    with pytest.raises(Invalid, match="mutually exclusive"):
        check_discord({"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}})
    with pytest.raises(Invalid, match="6000"):
        check_discord({"embeds": [{"description": "x" * 4000}, {"description": "x" * 2500}]})


def test_webhook_urls_come_from_the_environment_or_a_secret_file(tmp_path) -> None:
    secret = tmp_path / "slack-url"
    secret.write_text("https://hooks.slack.com/services/T0/B0/fromfile\n")
    from_env = find_webhook_url("SLACK_URL", secret, environ={"SLACK_URL": "https://hooks.slack.com/services/T0/B0/fromenv"})
    assert from_env is not None and from_env.reveal().endswith("fromenv") and from_env.origin == "$SLACK_URL"
    from_file = find_webhook_url("SLACK_URL", secret, environ={})
    assert from_file is not None and from_file.reveal().endswith("fromfile")
    assert str(from_file) == "https://hooks.slack.com/…" and "fromfile" not in repr(from_file)
    assert find_webhook_url("SLACK_URL", None, environ={}) is None
    with pytest.raises(SecretError) as caught:
        find_webhook_url("SLACK_URL", None, environ={"SLACK_URL": "http://hooks.slack.com/services/T0/B0/plain"})
    assert "plain" not in str(caught.value) and "https" in str(caught.value)
    with pytest.raises(SecretError, match="cannot read"):
        find_webhook_url("SLACK_URL", tmp_path / "missing", environ={})
