"""Short plain-text forms for the panels: durations, money, times, phases, log and event lines."""

from __future__ import annotations

import re
import time

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.adapters.agents.log_text import one_line
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Progress

_PR_URL = re.compile(r"https?://\S+?/pull/(?P<number>\d+)")

LOG_MARKERS = {"system": "· ", "text": "  ", "tool": "● ", "folded": "  ", "result": "◆ ", "error": "✘ ", "raw": "  "}
"""How each LogEntry kind starts its line in the log panel; the highlighter colours by it.

A tool entry starting with `→` (a folded tool result) or `↳` (a nested call) is indented under
its call instead of getting its own marker; `result` is the session's closing line."""


def duration(seconds: float | None) -> str:
    """`45s`, `12m`, `1h05m`, `2d03h`; `–` when unknown."""
    if seconds is None or seconds < 0:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def clock_time(ts: float) -> str:
    """Local wall-clock time of a timestamp, `HH:MM:SS`."""
    return time.strftime("%H:%M:%S", time.localtime(ts))


def short_time(ts: float) -> str:
    """Local `HH:MM`, for "paused until" and rate-limit resets."""
    return time.strftime("%H:%M", time.localtime(ts))


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis; one line."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def thousands(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def phase(progress: Progress) -> str:
    """`implementing 3/5` (the current step of the plan), or just the phase name."""
    if progress.phases_total:
        step = min(progress.phases_done + 1, progress.phases_total)
        return f"{progress.phase} {step}/{progress.phases_total}"
    return progress.phase


def pr_link(*texts: str) -> tuple[str, str]:
    """(`PR #501`, url) for the first pull-request URL in the texts, else ('', '')."""
    for text in texts:
        match = _PR_URL.search(text or "")
        if match:
            return f"PR #{match.group('number')}", match.group(0)
    return "", ""


def log_lines(entries: list[LogEntry], width: int = 160) -> list[str]:
    """Log entries as panel lines: tool calls and results on one short line, text as written."""
    lines: list[str] = []
    for entry in entries:
        marker = LOG_MARKERS.get(entry.kind, "  ")
        if entry.kind in ("tool", "result"):
            text = one_line(entry.text, width)
            if entry.kind == "tool" and text[:1] in ("→", "↳"):
                marker = LOG_MARKERS["folded"]
            if text:
                lines.append(marker + text)
            continue
        for line in entry.text.splitlines() or [""]:
            if line.strip():
                lines.append(marker + line.rstrip())
    return lines


def event_line(event: ev.Event, label: str) -> str:
    """One line for the event log panel: time, what happened, to which issue."""
    what = _describe(event)
    subject = f"{label} " if label else ""
    return f"{clock_time(event.ts)} {subject}{what}"


def _describe(event: ev.Event) -> str:
    match event:
        case ev.IssueSeen(issue_data=issue):
            return f"seen: {truncate(issue.title, 60)}"
        case ev.IssueGone(reason=reason):
            return f"gone ({reason})"
        case ev.IssueRejected(path=path, error=error):
            return f"rejected {path}: {truncate(error, 80)}"
        case ev.IssueHeld(reason=reason):
            return f"held: {reason}" if reason else "released"
        case ev.Warned(message=message):
            return f"warning: {truncate(message, 100)}"
        case ev.SessionStarted(session=session):
            where = session.host or session.executor
            return f"started attempt {session.attempt} on {where} ({session.agent})"
        case ev.SessionSpawned(reattached=reattached):
            return "reattached" if reattached else "spawned"
        case ev.SessionFinished(result=result):
            text = f"{result.outcome.value} after {duration(result.duration_s)}, {money(result.cost_usd)}"
            if result.error_class is not None:
                text += f" ({result.error_class.value})"
            return text
        case ev.SessionDetached():
            return "left running for reattach"
        case ev.RetryScheduled(error_class=error_class, not_before=not_before):
            return f"retry at {short_time(not_before)} after {error_class}"
        case ev.DispatcherPaused(by=by, reason=reason, until=until):
            until_text = f" until {short_time(until)}" if until else ""
            return f"dispatcher paused by {by}{until_text}" + (f": {reason}" if reason else "")
        case ev.DispatcherResumed(by=by):
            return f"dispatcher resumed by {by}"
        case ev.IssuePaused(by=by):
            return f"paused by {by}"
        case ev.IssueResumed(by=by):
            return f"resumed by {by}"
        case ev.PriorityBumped(delta=delta, by=by):
            return f"bumped {delta:+d} by {by}"
        case ev.IssuePinned(pinned=pinned, by=by):
            return f"{'pinned' if pinned else 'unpinned'} by {by}"
        case ev.IssueRequeued(by=by):
            return f"requeued by {by}"
        case ev.CancelRequested(by=by):
            return f"cancel requested by {by}"
    return event.type.replace("_", " ")
