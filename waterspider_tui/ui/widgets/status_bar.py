"""The header line: is it working, how full the queues are, what it costs, API budget, problems."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widget import Widget

from waterspider_tui.text import run_state as state
from waterspider_tui.text.run_state import poll_troubles
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View

POLL_OVERDUE_S = 60.0
"""A poll this late is said to be overdue instead of "polling now": a stuck poll must not look busy."""


def _api_budget(view: View, now: float) -> tuple[str, str, str, bool]:
    """(long text, short text, next poll, rate-limited?) from the sources' last polls."""
    polls = list(view.snapshot.sources.values())
    limited = [poll for poll in polls if poll.wait_until and poll.wait_until > now]
    rated = [poll for poll in polls if poll.rate_limit and poll.rate_remaining is not None]
    long = short = ""
    if rated:
        poll = min(rated, key=lambda item: (item.rate_remaining or 0) / (item.rate_limit or 1))
        remaining, limit = poll.rate_remaining or 0, poll.rate_limit or 1
        long = f"API {fmt.thousands(remaining)}/{fmt.thousands(limit)}"
        short = f"API {100 * remaining // limit}%"
    next_polls = [poll.next_poll for poll in polls if poll.next_poll]
    next_poll = ""
    if limited:
        until = max(poll.wait_until or 0 for poll in limited)
        next_poll = f"rate-limited until {fmt.short_time(until)}"
    elif next_polls:
        wait = min(next_polls) - now
        if wait > 0:
            next_poll = f"next poll {fmt.duration(math.ceil(wait))}"
        elif wait > -POLL_OVERDUE_S:
            next_poll = "polling now"
        else:
            next_poll = f"poll overdue {fmt.duration(-wait)}"
    return long, short, next_poll, bool(limited)


def _poll_trouble(view: View, level: int) -> str:
    """The failing sources at this level of detail: why, the retry, the last good poll's age."""
    troubles = poll_troubles(view.snapshot)
    if not troubles:
        return ""
    worst = min(troubles, key=lambda trouble: trouble.last_ok_at or 0.0)
    now = view.now
    age = fmt.duration(now - worst.last_ok_at) if worst.last_ok_at else "never"
    retry = ""
    if worst.retry_at is not None:
        retry = f"retry {fmt.duration(worst.retry_at - now)}" if worst.retry_at > now else "retrying"
    if level == 2:
        why = f": {fmt.truncate(worst.message, 30)}" if worst.message else ""
        last = f"last good {age} ago" if worst.last_ok_at else "no good poll yet"
        return " · ".join(part for part in (f"✘ poll failed{why}", retry, last) if part)
    if level == 1:
        return " · ".join(part for part in (f"✘ poll failed {age} ago" if worst.last_ok_at else "✘ poll failed", retry) if part)
    return f"✘ poll {age}" if worst.last_ok_at else "✘ no good poll"


_STATE_SHORT = {
    state.DISPATCHING: "●", state.WAITING: "◌ wait", state.STUCK: "◌ stuck", state.ALL_DONE: "✔ all done", state.FINISHED: "■ finished", state.NO_ISSUES: "○", state.NO_ANSWER: "?",
}


def status_text(view: View | None, palette: Palette, width: int, note: str = "") -> Text:
    """The header for a terminal `width` cells wide: as spelled out as fits."""
    for level in (2, 1, 0):
        text = _status(view, palette, level, note)
        if text.cell_len <= width:
            return text
    text = _status(view, palette, -1, note)
    text.truncate(width, overflow="ellipsis")
    return text


def _run_state(view: View, palette: Palette, level: int, text: Text) -> None:
    """`● dispatching`, `‖ paused: reason until 14:50`, `✔ all done`, ... as room allows."""
    snapshot = view.snapshot
    current = state.run_state(snapshot, view.plan, view.now)
    if current.word == state.PAUSED:
        until = f" until {fmt.short_time(snapshot.paused_until)}" if snapshot.paused_until else ""
        reason = fmt.truncate(snapshot.pause_reason or "paused", 40 if level == 2 else 24)
        text.append(f"‖ {reason}{until}  " if level > 0 else f"‖ paused{until}  ", palette.warning + palette.bold)
        return
    style = {
        state.DISPATCHING: palette.running, state.ALL_DONE: palette.succeeded + palette.bold,
        state.STUCK: palette.warning + palette.bold, state.WAITING: palette.warning, state.FINISHED: palette.warning + palette.bold,
    }.get(current.word, palette.muted)
    if level <= 0:
        short = _STATE_SHORT[current.word]
        text.append(f"{short}{' ' if len(short) == 1 else '  '}", style)
    elif level == 1 or not current.detail:
        text.append(f"{current.mark} {current.word}  ", style)
    else:
        text.append(f"{current.mark} {current.word}: {current.detail}  ", style)


def _status(view: View | None, palette: Palette, level: int, note: str) -> Text:
    """Level 2 spells everything out, 1 drops the title and shortens, 0 is the tmux-pane form,
    -1 is that form without the app's name."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(" waterspider " if level >= 0 else " ", palette.bold)
    if view is None:
        text.append(" starting…", palette.muted)
        return text
    snapshot = view.snapshot
    counts = view.counts()
    wide = level > 0
    if level == 2:
        text.append(f" {fmt.truncate(view.title, 40)}  ", palette.muted)
    _run_state(view, palette, level, text)
    running = f"{counts['running']}/{view.capacity}"
    gap = "   " if level == 2 else "  "
    if wide:
        text.append(f"{'running' if level == 2 else 'run'} {running}  ready {counts['ready']}  blocked {counts['blocked']}  ")
        text.append(f"done {counts['succeeded']}  ", palette.succeeded)
        text.append(f"failed {counts['failed']}", palette.failed if counts["failed"] else palette.muted)
        text.append(f"{gap}{fmt.money(view.spend_today())}{' today' if level == 2 else ''}")
    else:
        text.append(f"{running} run  {counts['ready']} ready  {counts['blocked']} blk  ")
        if counts["failed"]:
            text.append(f"{counts['failed']} fail  ", palette.failed)
        text.append(fmt.money(view.spend_today()))
    trouble = _poll_trouble(view, max(level, 0))
    if trouble:
        text.append(f"{gap}{trouble}", palette.error)
    long, short, next_poll, limited = _api_budget(view, view.now)
    if long and not trouble:  # while polls fail the budget is stale: the room goes to the failure
        text.append(f"{gap}{long}" if wide else f"  {short}", palette.warning if limited else "")
    if next_poll and not trouble and (wide or limited):
        if not wide:
            next_poll = "limited"
        elif level == 1:
            next_poll = next_poll.replace("rate-limited", "limited")
        text.append(f"{gap}{next_poll}", palette.warning if limited else palette.muted)
    warnings = len(snapshot.warnings)
    rejected = len(snapshot.rejected)
    if warnings:
        long_warn = f"⚠ {warnings} warning{'s' if warnings != 1 else ''}"
        text.append(f"{gap}{long_warn}" if level == 2 else f"{gap}⚠ {warnings}" if wide else f"  ⚠{warnings}", palette.warning)
    if rejected:
        long_rej = f"✘ {rejected} rejected file{'s' if rejected != 1 else ''}"
        text.append(f"{gap}{long_rej}" if level == 2 else f"{gap}✘ {rejected} rejected" if wide else f"  ✘{rejected}", palette.error)
    if note:
        text.append(f"   {note}", palette.error if note.startswith("✘") else palette.muted)
    return text


class StatusBar(Widget):
    """The always-visible header; given a View, a palette and an optional engine note."""

    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: View | None = None
        self._palette = Palette.plain()
        self._note = ""

    def show(self, view: View | None, palette: Palette, note: str = "") -> None:
        self._view, self._palette, self._note = view, palette, note
        self.refresh()

    def render(self) -> Text:
        return status_text(self._view, self._palette, self.size.width, self._note)
