"""Why a Claude Code session failed, read from structured fields in a fixed order, never from text.

The order (see the agents reference): `result.is_error`, `result.subtype`,
`result.terminal_reason`, `result.api_error_status`, the last `system/api_retry.error`, then
`assistant.error`. Message texts change between CLI versions; these fields do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waterspider_tui.text.log_text import clean, integer, number, text_of
from waterspider_tui.core.models import ErrorClass

_BY_SUBTYPE = {
    "error_max_turns": ErrorClass.MAX_TURNS,
    "error_max_budget_usd": ErrorClass.BUDGET,
    "error_max_structured_output_retries": ErrorClass.BAD_OUTPUT,
}
_BY_TERMINAL_REASON = {
    "max_turns": ErrorClass.MAX_TURNS,
    "budget_exhausted": ErrorClass.BUDGET,
    "prompt_too_long": ErrorClass.PROMPT_TOO_LONG,
    "blocking_limit": ErrorClass.PROMPT_TOO_LONG,
    "structured_output_retry_exhausted": ErrorClass.BAD_OUTPUT,
    "malformed_tool_use_exhausted": ErrorClass.BAD_OUTPUT,
    "aborted_streaming": ErrorClass.CRASHED,
    "aborted_tools": ErrorClass.CRASHED,
}
_BY_API_ERROR = {
    "authentication_failed": ErrorClass.AUTH,
    "oauth_org_not_allowed": ErrorClass.AUTH,
    "account_on_hold": ErrorClass.AUTH,
    "verification_required": ErrorClass.AUTH,
    "cloud_credential_error": ErrorClass.AUTH,
    "billing_error": ErrorClass.USAGE_LIMIT,
    "rate_limit": ErrorClass.RATE_LIMITED,
    "overloaded": ErrorClass.OVERLOADED,
    "server_error": ErrorClass.OVERLOADED,
    "max_output_tokens": ErrorClass.BAD_OUTPUT,
}


def class_of_status(status: int) -> ErrorClass | None:
    """The class of an HTTP status from the model API (401 auth, 429 rate, 529/5xx overloaded)."""
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 402:
        return ErrorClass.USAGE_LIMIT
    if status == 413:
        return ErrorClass.PROMPT_TOO_LONG
    if status == 429:
        return ErrorClass.RATE_LIMITED
    if status == 529 or 500 <= status <= 599:
        return ErrorClass.OVERLOADED
    return None


@dataclass
class ErrorSignals:
    """What the stream said about trouble before the result: retries, API errors, limits, denials."""

    retry_error: str = ""
    retry_status: int = 0
    assistant_error: str = ""
    limit_rejected: str = ""
    """The `rateLimitType` of a rejected `rate_limit_event` (a subscription window ran out)."""
    resets_at: float | None = None
    permission_denials: int = 0


def resets_at_seconds(value: Any) -> float | None:
    """`resetsAt` as epoch seconds (accepting milliseconds, which some builds send)."""
    seconds = number(value, 0.0)
    if seconds <= 0:
        return None
    return seconds / 1000 if seconds > 1e12 else seconds


def error_message(result: dict[str, Any]) -> str:
    """The result's own words: its `errors` list, else its `result` text."""
    errors = result.get("errors")
    if isinstance(errors, list) and errors:
        return clean("; ".join(str(error) for error in errors), 2000)
    return clean(text_of(result.get("result")), 2000)


def classify_result(result: dict[str, Any], signals: ErrorSignals) -> ErrorClass | None:
    """None for a success; otherwise the failure class, most specific field first."""
    subtype = text_of(result.get("subtype"))
    if result.get("is_error") is False and subtype == "success":
        return None
    found = _BY_SUBTYPE.get(subtype) or _BY_TERMINAL_REASON.get(text_of(result.get("terminal_reason")))
    found = found or class_of_status(integer(result.get("api_error_status")))
    found = found or _BY_API_ERROR.get(signals.retry_error) or class_of_status(signals.retry_status)
    found = found or _BY_API_ERROR.get(signals.assistant_error)
    if found is ErrorClass.RATE_LIMITED and signals.limit_rejected:
        return ErrorClass.USAGE_LIMIT
    if found:
        return found
    if signals.limit_rejected:
        return ErrorClass.USAGE_LIMIT
    denials = result.get("permission_denials")
    if signals.permission_denials or (isinstance(denials, list) and denials):
        return ErrorClass.PERMISSION_DENIED
    if not isinstance(result.get("is_error"), bool):
        return ErrorClass.BAD_OUTPUT
    return ErrorClass.CRASHED
