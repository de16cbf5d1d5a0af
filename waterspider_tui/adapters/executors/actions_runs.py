"""What this executor knows of a GitHub Actions run: the correlation id that tells a session's run
from every other, the tracking record kept per session, a completed run's conclusion as an exit,
and GitHub's timestamps."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from waterspider_tui.adapters.executors.actions_stream import StreamLog
from waterspider_tui.adapters.executors.base import ExitStatus

HOST_DOWN = "host_down"
CORRELATION_PREFIX = "ws-"
EXIT_CODES: dict[str, int | None] = {"success": 0, "neutral": 0, "failure": 1, "startup_failure": 1}
"""A completed run's conclusion as the agent's return code; anything else (cancelled, timed_out,
skipped, stale, action_required) is None: the session did not end on its own."""



def correlation_id(session_id: str) -> str:
    """The token the workflow's `run-name` shows, by which a run is told apart from every other."""
    return f"{CORRELATION_PREFIX}{session_id}"


def carries(run: Mapping[str, Any], correlation: str) -> bool:
    """Whether the run's name or display title holds `correlation` as a whole word."""
    for key in ("display_title", "name"):
        words = str(run.get(key) or "").replace("(", " ").replace(")", " ").replace(",", " ").split()
        if correlation in words:
            return True
    return False


def exit_of(run: Mapping[str, Any], ended: float) -> ExitStatus:
    conclusion = str(run.get("conclusion") or "")
    error = f"the run ended {conclusion}" if conclusion in ("startup_failure", "action_required") else ""
    return ExitStatus(returncode=EXIT_CODES.get(conclusion), ended=ended, error=error)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_iso(text: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except (TypeError, ValueError):
        return None


@dataclass
class TrackedRun:
    """What this executor knows about one session's run."""

    run_id: int | None = None
    html_url: str = ""
    dispatched_at: float = 0.0
    polled_at: float = float("-inf")
    run: dict[str, Any] | None = None
    output: bytes | None = None
    """The whole stream, once the run completed (the artifact after what the log showed)."""
    job_id: int | None = None
    log: StreamLog = field(default_factory=StreamLog)
    shown: bytearray = field(default_factory=bytearray)
    """The stream-json lines taken out of the job's log so far."""
    log_read_at: float = float("-inf")
    artifact: tuple[bytes, dict[str, Any] | None] | None = None
    """The `stream` artifact once read: the stream, and how the session ended on the runner."""
    cancel_reason: str = ""
    """Why this executor asked GitHub to cancel the run; empty while it has not."""
