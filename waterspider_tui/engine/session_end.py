"""What a session's end records: its result, whether and when it is retried, and a dispatch pause
when the failure is host-wide, a usage limit, or the daily budget is spent."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome
from waterspider_tui.core.retry import NOT_CHARGED, RetryDecision, decide_retry
from waterspider_tui.core.state import utc_day
from waterspider_tui.engine.after_agent import follow_up_of

if TYPE_CHECKING:
    from waterspider_tui.core.models import SessionInfo, SessionResult
    from waterspider_tui.core.state import Snapshot, TaskRecord
    from waterspider_tui.engine.policy import SessionPolicy

SHUTDOWN_REASON = "orchestrator shut down"
HOST_FAILURE = "host failure"
"""The `by` of a dispatch pause for a session's host-wide failure (auth, agent missing)."""


def end_events(snapshot: Snapshot, key: str, session: SessionInfo, result: SessionResult, policy: SessionPolicy, now: float) -> list[ev.Event]:
    """SessionFinished for `session`, and the retry or pause its result calls for."""
    task = snapshot.tasks.get(key)
    result = own_cost(result, task, session)
    ran = sum(1 for attempt in task.history if attempt.agent_ran and attempt.error_class not in NOT_CHARGED) if task is not None else 0
    this_ran = result.error_class not in NOT_CHARGED and (session.spawned or session.pid is not None or (task is not None and task.session is not None and task.session.spawned))
    attempts_used = ran + (1 + len(result.earlier_rounds) if this_ran else 0)  # a runner's gate rounds are attempts too
    decision = decide_retry(result, attempts_used, max_attempts=policy.max_attempts, backoff_s=policy.retry_backoff_s, now=now)
    issue_closed = task is not None and task.issue.closed
    if result.outcome is Outcome.FAILED and follow_up_of(task, session.session_id):
        # A step (the completion gate) sends the work back to the agent, at once and resuming its
        # conversation; the step counts its own rounds, so max_attempts does not apply.
        decision = RetryDecision(True, not_before=now, reason="sent back to the agent by a step after it")
    will_retry = decision.retry and decision.not_before is not None and not issue_closed
    events: list[ev.Event] = [ev.SessionFinished(
        ts=now, issue=key, session_id=session.session_id, result=result, will_retry=will_retry,
        limit=decision.pause_until is not None, host_wide=decision.host_wide,
    )]
    if decision.host_wide and not snapshot.dispatcher_paused:
        cause = result.error_class.value if result.error_class else "host"
        events.append(ev.DispatcherPaused(ts=now, by=HOST_FAILURE, reason=f"{cause} on {session.host}: {result.error or decision.reason}"[:300]))
    # Resuming a conversation that never got a turn fails the same way again: start afresh.
    resume = session.agent_session_id if result.turns > 0 else ""
    if decision.pause_until is not None and not snapshot.dispatcher_paused:
        reason = f"{result.error_class.value if result.error_class else 'limit'}: waiting for the reset"
        events.append(ev.DispatcherPaused(ts=now, by="limit", reason=reason, until=decision.pause_until))
    if will_retry:
        events.append(ev.RetryScheduled(ts=now, issue=key, not_before=decision.not_before or now, error_class=result.error_class.value if result.error_class else "", resume_agent_session=resume))
    if result.outcome is Outcome.CANCELLED and result.error == SHUTDOWN_REASON and not issue_closed:
        events.append(ev.RetryScheduled(ts=now, issue=key, not_before=now, error_class="shutdown", resume_agent_session=resume))
    return events


def own_cost(result: SessionResult, task: TaskRecord | None, session: SessionInfo) -> SessionResult:
    """The result charged only what this session cost: an agent that gave only a running total of its
    conversation (`cost_counts_resumed`: Claude's `total_cost_usd` across `--resume`) counted the
    earlier sessions of the conversation this one resumed, which the history holds already."""
    if not result.cost_counts_resumed or task is None or not session.agent_session_id:
        return result
    earlier = sum(attempt.cost_usd for attempt in task.history if attempt.agent_session_id == session.agent_session_id)
    if not earlier or result.cost_usd < earlier:
        return result
    return replace(result, cost_usd=result.cost_usd - earlier)


def budget_pause(snapshot: Snapshot, policy: SessionPolicy, now: float) -> ev.DispatcherPaused | None:
    """A dispatch pause once today's spending reached the daily budget (None while under it or already paused)."""
    budget = policy.daily_budget_usd
    if not budget or snapshot.dispatcher_paused:
        return None
    spent = snapshot.spend_on(utc_day(now))
    if spent < budget:
        return None
    return ev.DispatcherPaused(ts=now, by="budget", reason=f"daily budget reached: ${spent:.2f} of ${budget:.2f}")
