"""Discord: a channel webhook (`WATERSPIDER_DISCORD_WEBHOOK_URL`), one message of embeds per batch.

The payload keeps to Discord's documented limits for executing a webhook: `content` up to 2000
characters, at most 10 `embeds`, each `title` up to 256 and `description` up to 4096
characters, and 6000 characters across all embeds. `allowed_mentions` names exactly the users
and roles configured to be mentioned, so nothing in an issue's text can ping anyone.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, Callable

import httpx

from waterspider_tui.adapters.sinks.notify.messages import clip
from waterspider_tui.adapters.sinks.notify.webhook import post_json

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.notify.messages import Line, Message, Section
    from waterspider_tui.adapters.sinks.notify.webhook import WebhookUrl

CONTENT_CHARS = 2000
MAX_EMBEDS = 10
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
FOOTER_CHARS = 2048
EMBEDS_TOTAL_CHARS = 6000
LINE_CHARS = 600
COLORS = {"error": 0xD83C3E, "warning": 0xE8912D, "info": 0x2F80ED}
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]])")
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")


def escape(text: str) -> str:
    """Discord markdown taken literally, so an issue title cannot format or forge a link."""
    return _MARKDOWN.sub(r"\\\1", text)


def _row(line: Line) -> str:
    text = escape(clip(line.text, LINE_CHARS))
    if not line.label:
        return f"  {text}"
    label = escape(line.label)
    url = line.url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"• [{label}]({url}) {text}" if url else f"• **{label}** {text}"


def _description(section: Section, budget: int) -> str:
    """The section's lines within `budget` characters; what does not fit is counted."""
    rows: list[str] = []
    hints = [f"> {escape(clip(hint, LINE_CHARS))}" for hint in section.hints]
    used, more = sum(len(hint) + 1 for hint in hints), section.more
    for index, line in enumerate(section.lines):
        row = _row(line)
        if used + len(row) + 1 > budget - 40:
            more += sum(1 for rest in section.lines[index:] if rest.label)
            break
        rows.append(row)
        used += len(row) + 1
    if more:
        rows.append(f"*… and {more} more*")
    return clip("\n".join(rows + hints), min(budget, DESCRIPTION_CHARS))


def _allowed_mentions(mentions: tuple[str, ...]) -> dict[str, Any]:
    text = " ".join(mentions)
    allowed: dict[str, Any] = {"parse": ["everyone"] if "@everyone" in text or "@here" in text else []}
    allowed["users"] = sorted(set(_USER.findall(text)))
    allowed["roles"] = sorted(set(_ROLE.findall(text)))
    return allowed


def discord_payload(message: Message, *, username: str = "waterspider") -> dict[str, Any]:
    """The JSON body for executing a webhook."""
    sections = message.sections[:MAX_EMBEDS]
    footer = clip(message.footer, FOOTER_CHARS)
    titles = [clip(section.heading, TITLE_CHARS) for section in sections]
    left = EMBEDS_TOTAL_CHARS - len(footer) - sum(len(title) for title in titles) - 20
    embeds: list[dict[str, Any]] = []
    for index, (section, title) in enumerate(zip(sections, titles)):
        share = max(left // (len(sections) - index), 0)
        description = _description(section, min(share, DESCRIPTION_CHARS))
        left -= len(description)
        embeds.append({"title": title, "description": description, "color": COLORS.get(section.severity, COLORS["info"])})
    if embeds:
        embeds[-1]["footer"] = {"text": footer}
    content = " ".join([*message.mentions, f"**{escape(message.title)}**"])
    return {
        "username": username, "content": clip(content, CONTENT_CHARS), "embeds": embeds,
        "allowed_mentions": _allowed_mentions(message.mentions),
    }


class DiscordChannel:
    """Posts messages to one Discord webhook."""

    kind = "discord"

    def __init__(self, url: WebhookUrl, *, client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time, username: str = "waterspider") -> None:
        self.url = url
        self.username = username
        self._client = client or httpx.AsyncClient()
        self._own_client = client is None
        self._clock = clock

    async def send(self, message: Message) -> None:
        await post_json(self._client, self.url, discord_payload(message, username=self.username), what="discord", clock=self._clock)

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()
