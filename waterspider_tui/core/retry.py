"""What to do after a failed session, by its error class: retry, wait for a reset, or stop."""

from __future__ import annotations

from dataclasses import dataclass

from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.models import ErrorClass, Outcome, SessionResult

RETRYABLE = frozenset({ErrorClass.OVERLOADED, ErrorClass.AGENT_RETRY_LATER, ErrorClass.CRASHED, ErrorClass.STALLED, ErrorClass.LOST, ErrorClass.INTERRUPTED})
"""Failures that another attempt (resuming the same agent session) can fix."""
LIMITS = frozenset({ErrorClass.RATE_LIMITED, ErrorClass.USAGE_LIMIT})
"""Failures that hit every session alike: pause the dispatcher instead of burning retries."""
HOST_WIDE = frozenset({ErrorClass.AUTH, ErrorClass.AGENT_NOT_FOUND})
"""Failures of the machine, not of the issue: every issue would fail the same way. Dispatch
pauses, the issue goes back to the queue, and the attempt is not charged to it."""
HOST_TROUBLE = frozenset({ErrorClass.HOST_DOWN, ErrorClass.HOST_REFUSED})
"""One host's trouble: the issue is retried (elsewhere, as the balancer sees the host down), not charged."""
WAITS_FOR_BLOCKERS = frozenset({ErrorClass.BLOCKERS_CONFLICT})
"""The issue's blockers' work conflicts: it waits, not charged. The engine holds such an issue before
its start; a session still meets it only when a blocker's branch moved between that check and its
worktree, and is tried again after `BLOCKERS_RECHECK_S`, where the check before the start holds it."""
NOT_CHARGED = HOST_WIDE | HOST_TROUBLE | WAITS_FOR_BLOCKERS
"""Failures that do not use up an issue's attempts."""
BLOCKERS_RECHECK_S = 60.0
"""Between a session that met its blockers' conflict and the next look (the same each time)."""
DEFAULT_LIMIT_WAIT_S = 15 * 60.0


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    not_before: float | None = None
    pause_until: float | None = None
    """Set for rate and usage limits: pause all dispatch until then."""
    reason: str = ""
    host_wide: bool = False
    """Pause all dispatch until the host is fixed; the issue waits in the queue, not charged."""


def decide_retry(result: SessionResult, attempt: int, *, max_attempts: int, backoff_s: float, now: float) -> RetryDecision:
    """Retry transient failures with exponential backoff; limits pause everything; others stop."""
    if result.outcome is not Outcome.FAILED or result.error_class is None:
        return RetryDecision(False)
    if result.error_class in HOST_WIDE:
        return RetryDecision(True, not_before=now, host_wide=True, reason=advice_for(result.error_class, host_wide=True))
    if result.error_class in WAITS_FOR_BLOCKERS:
        # Not a backoff: no attempt of the issue's own failed, and a merge or a push can settle it any time.
        return RetryDecision(True, not_before=now + BLOCKERS_RECHECK_S, reason=f"its blockers' work conflicts: looked at again in {BLOCKERS_RECHECK_S:.0f}s")
    if result.error_class in HOST_TROUBLE:
        delay = backoff_s * (2 ** min(max(attempt - 1, 0), 5))
        return RetryDecision(True, not_before=now + delay, reason=f"{result.error_class.value}: placed again in {delay:.0f}s")
    if result.error_class in LIMITS:
        until = result.retry_at if result.retry_at and result.retry_at > now else now + DEFAULT_LIMIT_WAIT_S
        return RetryDecision(True, not_before=until, pause_until=until, reason=f"{result.error_class.value} until reset")
    if result.error_class is ErrorClass.LOST:
        # Its agent never started: nothing was tried, so nothing waits and nothing is charged.
        return RetryDecision(True, not_before=now, reason="its agent never started: started again")
    if result.error_class in RETRYABLE and attempt < max_attempts:
        delay = backoff_s * (2 ** (attempt - 1))
        return RetryDecision(True, not_before=now + delay, reason=f"{result.error_class.value}, attempt {attempt + 1} of {max_attempts} in {delay:.0f}s")
    return RetryDecision(False, reason=advice_for(result.error_class))
