"""What to do after a failed session, by its error class: retry, wait for a reset, or stop."""

from __future__ import annotations

from dataclasses import dataclass

from waterspider_tui.core.models import ErrorClass, Outcome, SessionResult

RETRYABLE = frozenset({ErrorClass.OVERLOADED, ErrorClass.CRASHED, ErrorClass.STALLED, ErrorClass.LOST})
"""Failures that another attempt (resuming the same agent session) can fix."""
LIMITS = frozenset({ErrorClass.RATE_LIMITED, ErrorClass.USAGE_LIMIT})
"""Failures that hit every session alike: pause the dispatcher instead of burning retries."""
DEFAULT_LIMIT_WAIT_S = 15 * 60.0

ADVICE: dict[ErrorClass, str] = {
    ErrorClass.MAX_TURNS: "the agent ran out of turns: split the issue or raise max_turns, then requeue",
    ErrorClass.BUDGET: "the spending cap was reached: raise the budget or narrow the issue, then requeue",
    ErrorClass.AUTH: "the agent could not authenticate: fix its API key or login on the host, then requeue",
    ErrorClass.RATE_LIMITED: "the model API rate limit was hit: dispatch resumes after the reset",
    ErrorClass.USAGE_LIMIT: "the usage limit was reached: dispatch resumes after the reset",
    ErrorClass.OVERLOADED: "the model API was overloaded: retried automatically",
    ErrorClass.PROMPT_TOO_LONG: "the prompt is too long: shorten the issue body or the template, then requeue",
    ErrorClass.PERMISSION_DENIED: "a tool call was denied: widen allowed_tools or the permission mode, then requeue",
    ErrorClass.STALLED: "the agent stopped producing output: retried automatically; check the log if it repeats",
    ErrorClass.TIMEOUT: "the session hit its wall-clock limit: raise timeout_s or split the issue",
    ErrorClass.CRASHED: "the agent exited without a result: retried automatically; check stderr in the session folder",
    ErrorClass.AGENT_NOT_FOUND: "the agent program was not found: install it or set agent.options.binary",
    ErrorClass.BAD_OUTPUT: "the agent's output could not be read: check the log",
    ErrorClass.WORKSPACE: "the worktree could not be prepared: check the repository and base branch",
    ErrorClass.LOST: "the session vanished during a restart: retried automatically",
}


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    not_before: float | None = None
    pause_until: float | None = None
    """Set for rate and usage limits: pause all dispatch until then."""
    reason: str = ""


def decide_retry(result: SessionResult, attempt: int, *, max_attempts: int, backoff_s: float, now: float) -> RetryDecision:
    """Retry transient failures with exponential backoff; limits pause everything; others stop."""
    if result.outcome is not Outcome.FAILED or result.error_class is None:
        return RetryDecision(False)
    if result.error_class in LIMITS:
        until = result.retry_at if result.retry_at and result.retry_at > now else now + DEFAULT_LIMIT_WAIT_S
        return RetryDecision(True, not_before=until, pause_until=until, reason=f"{result.error_class.value} until reset")
    if result.error_class in RETRYABLE and attempt < max_attempts:
        delay = backoff_s * (2 ** (attempt - 1))
        return RetryDecision(True, not_before=now + delay, reason=f"{result.error_class.value}, attempt {attempt + 1} of {max_attempts} in {delay:.0f}s")
    return RetryDecision(False, reason=ADVICE.get(result.error_class, ""))
