"""Notifier sinks from the `[notify]` settings: one per channel that is on and has its webhook URL.

The settings are read by shape (`config.NotifySection` has it): adapters sit below the config
layer and never import it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Mapping, Protocol, Sequence

from waterspider_tui.adapters.sinks.notify.discord import DiscordChannel
from waterspider_tui.adapters.sinks.notify.sink import NotifySink
from waterspider_tui.adapters.sinks.notify.slack import SlackChannel
from waterspider_tui.adapters.sinks.notify.terminal import TerminalChannel
from waterspider_tui.adapters.sinks.notify.webhook import find_webhook_url

if TYPE_CHECKING:
    from waterspider_tui.adapters.sinks.base import CursorStore, StoredEvents
    from waterspider_tui.adapters.sinks.notify.sink import Channel
    from waterspider_tui.adapters.sinks.terminal_hold import TerminalHold
    from waterspider_tui.core.milestones import DoneWhen


class WebhookChannelSettings(Protocol):
    enabled: bool
    webhook_url_env: str
    webhook_url_file: Path | None
    events: Sequence[str]
    mention: Sequence[str]


class DiscordSettings(WebhookChannelSettings, Protocol):
    username: str


class TerminalSettings(Protocol):
    enabled: bool
    bell: bool
    desktop: Literal["osc9", "osc777", "off"]
    events: Sequence[str]


class NotifySettings(Protocol):
    """What `build_notify_sinks` reads of `[notify]`."""

    gather_s: float
    min_interval_s: float
    stale_after_s: float
    digest_at_utc: str
    max_lines: int

    @property
    def slack(self) -> WebhookChannelSettings: ...
    @property
    def discord(self) -> DiscordSettings: ...
    @property
    def terminal(self) -> TerminalSettings: ...


def build_notify_sinks(
    section: NotifySettings, *, log: StoredEvents, cursors: CursorStore, done_when: DoneWhen = "succeeded",
    source: str = "waterspider", environ: Mapping[str, str] | None = None,
    terminal_write: Callable[[str], None] | None = None, clock: Callable[[], float] = time.time,
    terminal_hold: TerminalHold | None = None,
) -> list[NotifySink]:
    """Raises `SecretError` (one line, no URL in it) for a webhook URL that is set but unusable.

    The terminal channel holds its output while `terminal_hold` says the terminal is lent."""
    channels: list[tuple[Channel, list[str], list[str]]] = []
    slack, discord, terminal = section.slack, section.discord, section.terminal
    if slack.enabled and (url := find_webhook_url(slack.webhook_url_env, slack.webhook_url_file, environ)) is not None:
        channels.append((SlackChannel(url, clock=clock), list(slack.events), list(slack.mention)))
    if discord.enabled and (url := find_webhook_url(discord.webhook_url_env, discord.webhook_url_file, environ)) is not None:
        channels.append((DiscordChannel(url, clock=clock, username=discord.username), list(discord.events), list(discord.mention)))
    if terminal.enabled:
        channels.append((TerminalChannel(bell=terminal.bell, desktop=terminal.desktop, write=terminal_write, environ=environ, hold=terminal_hold), list(terminal.events), []))
    return [
        NotifySink(
            channel, kinds=kinds, mentions=mentions, gather_s=section.gather_s, min_interval_s=section.min_interval_s,
            stale_after_s=section.stale_after_s, digest_at_utc=section.digest_at_utc, done_when=done_when,
            source=source, max_lines=section.max_lines, log=log, cursors=cursors, clock=clock,
        )
        for channel, kinds, mentions in channels
    ]
