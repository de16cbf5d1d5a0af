"""GitHub's rate-limit headers as a state, and how long a refused or failed request must wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

SECONDARY_LIMIT_WAIT_S = 60.0
"""GitHub asks for at least a minute when a secondary limit gives no `retry-after`."""


@dataclass(frozen=True)
class RateLimitState:
    """The primary limit as the last response's `x-ratelimit-*` headers told it."""

    limit: int | None = None
    remaining: int | None = None
    used: int | None = None
    reset_at: float | None = None
    """When the window resets, seconds since the epoch."""
    resource: str = "core"


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def read_rate_limit(headers: Mapping[str, str], previous: RateLimitState) -> RateLimitState:
    """The state after a response; a response without the headers keeps the previous one."""
    remaining = _int_header(headers, "x-ratelimit-remaining")
    if remaining is None:
        return previous
    reset = _int_header(headers, "x-ratelimit-reset")
    return RateLimitState(
        limit=_int_header(headers, "x-ratelimit-limit"),
        remaining=remaining,
        used=_int_header(headers, "x-ratelimit-used"),
        reset_at=float(reset) if reset is not None else None,
        resource=headers.get("x-ratelimit-resource", "core"),
    )


def is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    """A 429, or a 403 that says it is a limit rather than a missing permission."""
    if status == 429:
        return True
    if status != 403:
        return False
    return (
        "retry-after" in headers
        or _int_header(headers, "x-ratelimit-remaining") == 0
        or "rate limit" in message.lower()
        or "abuse detection" in message.lower()
    )


def rate_limit_wait_s(
    headers: Mapping[str, str], *, now: float, attempt: int, secondary_wait_s: float = SECONDARY_LIMIT_WAIT_S
) -> float:
    """Seconds to wait before retrying a limited request, in GitHub's documented order.

    `retry-after` first; else, with nothing remaining, until `x-ratelimit-reset` (plus a
    second for clock skew); else a secondary limit: a minute, doubling with each attempt.
    """
    retry_after = _int_header(headers, "retry-after")
    if retry_after is not None:
        return float(max(retry_after, 0))
    reset = _int_header(headers, "x-ratelimit-reset")
    if _int_header(headers, "x-ratelimit-remaining") == 0 and reset is not None:
        return max(reset - now, 0.0) + 1.0
    return secondary_wait_s * 2.0 ** max(attempt - 1, 0)


def retry_backoff_s(attempt: int, *, base_s: float, cap_s: float, jitter: float) -> float:
    """Exponential backoff for server errors and network failures; `jitter` in [0, 1).

    Half the delay is fixed and half random, so retries from several clients spread out
    without any of them retrying almost at once.
    """
    ceiling = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + ceiling / 2 * jitter
