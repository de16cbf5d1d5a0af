"""What a process exit means when the stream itself never said how the session ended."""

from __future__ import annotations

import signal

from waterspider_tui.core.models import ErrorClass

NOT_FOUND_EXIT_CODES = (126, 127)
"""The shell's "cannot execute" and "command not found"; executors report a failed exec as 127."""


def describe_exit(exit_code: int | None) -> str:
    """`exit 1`, `killed by SIGTERM (exit 143)` or `exit code unknown`."""
    if exit_code is None:
        return "exit code unknown"
    signal_number = -exit_code if exit_code < 0 else exit_code - 128 if exit_code > 128 else 0
    if signal_number:
        try:
            name = signal.Signals(signal_number).name
        except ValueError:
            name = f"signal {signal_number}"
        return f"killed by {name} (exit {exit_code})"
    return f"exit {exit_code}"


def ended_without_result(
    exit_code: int | None, *, stalled: bool, timed_out: bool, saw_events: bool
) -> tuple[ErrorClass, str]:
    """The class and message for a session whose stream has no final result."""
    how = describe_exit(exit_code)
    if timed_out:
        return ErrorClass.TIMEOUT, f"timed out before a result ({how})"
    if stalled:
        return ErrorClass.STALLED, f"stopped producing output before a result ({how})"
    if exit_code in NOT_FOUND_EXIT_CODES:
        return ErrorClass.AGENT_NOT_FOUND, f"agent program not found or not executable ({how})"
    if exit_code == 0 and not saw_events:
        return ErrorClass.BAD_OUTPUT, "exited 0 without printing a single event"
    return ErrorClass.CRASHED, f"ended without a result ({how})"
