"""Slack: an incoming webhook (`WATERSPIDER_SLACK_WEBHOOK_URL`), one Block Kit message per batch.

The payload keeps to what Slack documents for incoming webhooks: a `text` fallback (what the
notification shows) and at most 50 `blocks` (a `header` of plain text up to 150 characters,
`section`s of mrkdwn up to 3000 characters, a `context` footer). Text from issues is escaped
(`&`, `<`, `>`), so a title cannot ping a channel or forge a link.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import httpx

from waterspider_tui.adapters.sinks.notify.messages import clip
from waterspider_tui.adapters.sinks.notify.webhook import post_json

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.notify.messages import Line, Message, Section
    from waterspider_tui.adapters.sinks.notify.webhook import WebhookUrl

MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FALLBACK_CHARS = 3000
LINE_CHARS = 600
SEVERITY_EMOJI = {"error": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


def escape(text: str) -> str:
    """Slack's three control characters, as its formatting guide asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(line: Line) -> str:
    label = escape(line.label)
    if not line.url:
        return f"*{label}*" if label else ""
    url = escape(line.url).replace("|", "%7C")
    return f"<{url}|{label}>"


def _section_texts(section: Section) -> list[str]:
    """The section as mrkdwn texts of at most SECTION_CHARS each (split between lines)."""
    rows = [f"{SEVERITY_EMOJI.get(section.severity, '')} *{escape(section.heading)}*".strip()]
    for line in section.lines:
        text = escape(clip(line.text, LINE_CHARS))
        link = _link(line)
        rows.append(f"• {link} {text}".rstrip() if link else f"    {text}")
    if section.more:
        rows.append(f"_… and {section.more} more_")
    rows.extend(f"> {escape(clip(hint, LINE_CHARS))}" for hint in section.hints)
    texts, current = [], ""
    for row in rows:
        row = clip(row, SECTION_CHARS)
        if current and len(current) + 1 + len(row) > SECTION_CHARS:
            texts.append(current)
            current = row
        else:
            current = f"{current}\n{row}" if current else row
    return texts + ([current] if current else [])


def slack_payload(message: Message) -> dict[str, Any]:
    """The JSON body for an incoming webhook."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": clip(message.title, HEADER_CHARS), "emoji": True}}]
    if message.mentions:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": " ".join(message.mentions)}})
    footer = {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(message.footer)}]}
    for section in message.sections:
        for text in _section_texts(section):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if len(blocks) + 1 > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 2] + [{"type": "section", "text": {"type": "mrkdwn", "text": "_… more in the control center_"}}]
    blocks.append(footer)
    fallback = " ".join([*message.mentions, escape(message.title)])
    return {"text": clip(fallback, FALLBACK_CHARS), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


class SlackChannel:
    """Posts messages to one Slack incoming webhook."""

    kind = "slack"

    def __init__(self, url: WebhookUrl, *, client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self._client = client or httpx.AsyncClient()
        self._own_client = client is None
        self._clock = clock

    async def send(self, message: Message) -> None:
        await post_json(self._client, self.url, slack_payload(message), what="slack", clock=self._clock)

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()
