"""The retry policy: which failures are retried, how long to wait, and limits that pause."""

from __future__ import annotations

import pytest

from core_builders import clock
from waterspider_tui.core.models import ErrorClass, Outcome, SessionResult
from waterspider_tui.core.advice import ADVICE, advice_for
from waterspider_tui.core.retry import DEFAULT_LIMIT_WAIT_S, HOST_WIDE, LIMITS, NOT_CHARGED, RETRYABLE, decide_retry

NOW = clock().now()


def failed(error_class: ErrorClass | None, retry_at: float | None = None) -> SessionResult:
    return SessionResult(outcome=Outcome.FAILED, error_class=error_class, retry_at=retry_at)


def decide(result: SessionResult, attempt: int, max_attempts: int = 3, backoff_s: float = 30.0):
    return decide_retry(result, attempt, max_attempts=max_attempts, backoff_s=backoff_s, now=NOW)


@pytest.mark.parametrize("error_class", sorted(RETRYABLE - {ErrorClass.LOST}, key=lambda c: c.value))
def test_retryable_classes_back_off_exponentially_until_max_attempts(error_class: ErrorClass) -> None:
    delays = []
    for attempt in (1, 2, 3):
        decision = decide(failed(error_class), attempt, max_attempts=4, backoff_s=30.0)
        assert decision.retry is True
        assert decision.pause_until is None
        assert decision.not_before is not None
        delays.append(decision.not_before - NOW)
    assert delays == [30.0, 60.0, 120.0]
    last = decide(failed(error_class), 4, max_attempts=4)
    assert (last.retry, last.not_before) == (False, None)
    assert last.reason == advice_for(error_class), "once attempts are used up, the advice is the fix"
    assert ADVICE[error_class].fix in last.reason


@pytest.mark.parametrize("attempts_used", [0, 3, 9])
def test_an_attempt_whose_agent_never_started_starts_again_at_once(attempts_used: int) -> None:
    decision = decide(failed(ErrorClass.LOST), attempts_used, max_attempts=3, backoff_s=30.0)
    assert (decision.retry, decision.not_before, decision.pause_until) == (True, NOW, None)


def test_retry_reason_names_the_next_attempt() -> None:
    decision = decide(failed(ErrorClass.CRASHED), 1, max_attempts=3, backoff_s=10.0)
    assert decision.reason == "crashed, attempt 2 of 3 in 10s"


def test_the_retryable_set() -> None:
    # a wall-clock timeout or unreadable output would most likely happen again
    # an agent interrupted from outside (SIGINT) had not failed at its work
    # a command agent's exit 75 asks for exactly this
    assert RETRYABLE == {ErrorClass.OVERLOADED, ErrorClass.AGENT_RETRY_LATER, ErrorClass.CRASHED, ErrorClass.STALLED, ErrorClass.LOST, ErrorClass.INTERRUPTED}


@pytest.mark.parametrize(
    "error_class",
    [ErrorClass.PROMPT_TOO_LONG, ErrorClass.BUDGET, ErrorClass.MAX_TURNS,
     ErrorClass.PERMISSION_DENIED, ErrorClass.WORKSPACE, ErrorClass.TIMEOUT,
     ErrorClass.BAD_OUTPUT],
)
def test_failures_a_retry_cannot_fix_are_not_retried(error_class: ErrorClass) -> None:
    decision = decide(failed(error_class), 1, max_attempts=5)
    assert (decision.retry, decision.not_before, decision.pause_until) == (False, None, None)
    assert decision.reason == advice_for(error_class) and ADVICE[error_class].fix in decision.reason


@pytest.mark.parametrize("error_class", [ErrorClass.RATE_LIMITED, ErrorClass.USAGE_LIMIT])
def test_limits_pause_until_the_reset_time_when_given(error_class: ErrorClass) -> None:
    decision = decide(failed(error_class, retry_at=NOW + 1234), 1)
    assert decision.retry is True
    assert decision.pause_until == decision.not_before == NOW + 1234


@pytest.mark.parametrize("error_class", [ErrorClass.RATE_LIMITED, ErrorClass.USAGE_LIMIT])
def test_limits_without_a_future_reset_wait_the_default(error_class: ErrorClass) -> None:
    for retry_at in (None, NOW - 5, NOW):
        decision = decide(failed(error_class, retry_at=retry_at), 1)
        assert decision.pause_until == decision.not_before == NOW + DEFAULT_LIMIT_WAIT_S == NOW + 900


def test_limits_do_not_burn_attempts() -> None:
    decision = decide(failed(ErrorClass.USAGE_LIMIT, retry_at=NOW + 60), attempt=3, max_attempts=3)
    assert decision.retry is True and decision.pause_until == NOW + 60
    assert LIMITS == {ErrorClass.RATE_LIMITED, ErrorClass.USAGE_LIMIT}


def test_success_cancel_and_unclassified_failures_are_not_retried() -> None:
    assert decide(SessionResult(outcome=Outcome.SUCCEEDED), 1).retry is False
    assert decide(SessionResult(outcome=Outcome.CANCELLED, error_class=ErrorClass.CRASHED), 1).retry is False
    assert decide(failed(None), 1).retry is False


def test_every_error_class_has_advice() -> None:
    assert set(ADVICE) == set(ErrorClass)


@pytest.mark.parametrize("error_class", sorted(RETRYABLE, key=lambda c: c.value))
def test_advice_follows_the_decision_taken_for_this_failure(error_class: ErrorClass) -> None:
    """The comment said "Requeue it" for `lost` while `lost` is retried by itself: one table,
    read with the decision, says "retried automatically" only while a retry is coming."""
    assert "retried automatically" in advice_for(error_class, will_retry=True)
    assert "retried automatically" not in advice_for(error_class)
    assert "resets" in advice_for(ErrorClass.USAGE_LIMIT, limit=True)


@pytest.mark.parametrize("error_class", sorted(HOST_WIDE, key=lambda c: c.value))
def test_a_failure_of_the_host_pauses_dispatch_and_keeps_the_issue_queued(error_class: ErrorClass) -> None:
    decision = decide(failed(error_class), 9, max_attempts=3)
    assert decision.retry and decision.host_wide and decision.not_before == NOW, "never used up: not the issue's fault"
    assert "Dispatch is paused" in decision.reason and "requeue" not in decision.reason


def test_a_conflict_between_blockers_waits_and_is_tried_again_past_max_attempts() -> None:
    decision = decide(failed(ErrorClass.BLOCKERS_CONFLICT), attempt=3, max_attempts=3)
    assert decision.retry is True and decision.pause_until is None and not decision.host_wide
    assert decision.not_before == NOW + 60.0, "a minute, not growing: no attempt of its own failed"
    assert decide(failed(ErrorClass.BLOCKERS_CONFLICT), attempt=1, backoff_s=0.0).not_before == NOW + 60.0, "never a tight loop"
    assert "looked at again in 60s" in decision.reason
    assert ErrorClass.BLOCKERS_CONFLICT in NOT_CHARGED
