"""Notifications as sinks: Slack and Discord webhooks, the terminal's bell and desktop notification.

Two hand-written payloads over httpx rather than apprise. apprise reaches 100+ services, but it
brings requests, urllib3, requests-oauthlib, click, markdown, PyYAML and certifi (and a 2.8 MB
wheel of 190 plugins) for two webhooks; it is synchronous (its async path runs the requests
client on a thread pool); its Slack and Discord plugins post to the services' fixed hosts, so
they cannot be pointed at a loopback receiver in tests; and it reports a send as True or False,
which loses what the outbox needs: a 429's `Retry-After`, a 5xx to retry, a 4xx to drop. A
payload here is ~100 lines with the limits written down, tested against a loopback receiver
that enforces them. Another service is one more `Channel` (`send(message)`, `close()`); an
apprise channel could be one of them, on a thread worker, if its reach is wanted later.
"""

from __future__ import annotations

from waterspider_tui.adapters.sinks.notify.build import build_notify_sinks
from waterspider_tui.adapters.sinks.notify.discord import DiscordChannel, discord_payload
from waterspider_tui.adapters.sinks.notify.messages import Message, compose
from waterspider_tui.adapters.sinks.notify.finder import NoticeFinder
from waterspider_tui.adapters.sinks.notify.notices import Notice, NoticeKind
from waterspider_tui.adapters.sinks.notify.sink import Channel, NotifySink
from waterspider_tui.adapters.sinks.notify.slack import SlackChannel, slack_payload
from waterspider_tui.adapters.sinks.notify.terminal import TerminalChannel, terminal_sequence
from waterspider_tui.adapters.sinks.notify.webhook import SecretError, WebhookRejected, WebhookUrl, find_webhook_url

__all__ = [
    "Channel", "DiscordChannel", "Message", "Notice", "NoticeFinder", "NoticeKind", "NotifySink", "SecretError",
    "SlackChannel", "TerminalChannel", "WebhookRejected", "WebhookUrl", "build_notify_sinks", "compose",
    "discord_payload", "find_webhook_url", "slack_payload", "terminal_sequence",
]
