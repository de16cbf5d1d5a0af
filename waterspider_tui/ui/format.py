"""Short plain-text forms for the panels: durations, money, times, phases, log and event lines."""

from __future__ import annotations

import re
import time

from waterspider_tui.core import events as ev
from waterspider_tui.text.log_text import log_lines  # noqa: F401  (the panels' log lines are the CLI's)
from waterspider_tui.text.event_text import describe
from waterspider_tui.text.event_text import duration  # noqa: F401  (the UI formats durations as --no-ui does)
from waterspider_tui.core.models import Progress

_PR_URL = re.compile(r"https?://\S+?/pull/(?P<number>\d+)")


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


def event_line(event: ev.Event, label: str) -> str | None:
    """One line for the event log panel: the time and the same words `--no-ui` prints; None for
    the events `--no-ui` leaves out too (a step that went as it should)."""
    def key_text(key: str) -> str:
        return label if label and key == event.issue_key else "#" + key.rpartition("#")[2]

    text = describe(event, key_text)
    return f"{clock_time(event.ts)} {text}" if text else None
