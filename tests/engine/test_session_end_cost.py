"""A session's cost is its own, however its agent reports it: Claude's `total_cost_usd` is a running
total of the conversation, which a session resuming it (a gate round, a retry) carries on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.core.state import apply_all, Snapshot
from waterspider_tui.engine.policy import SessionPolicy
from waterspider_tui.engine.session_end import end_events

T0 = 1_700_000_000.0
KEY = "o/r#1"


def _session(attempt: int, agent_session: str) -> SessionInfo:
    return SessionInfo(session_id=f"s-{attempt}", issue=KEY, attempt=attempt, executor="local", host="local", worktree="/w",
                       branch="feature/issue-1", log_path=f"/l/{attempt}", started_at=T0, agent_session_id=agent_session, spawned=True)


def _after_first_round(agent_session: str) -> Snapshot:
    first = _session(1, "conversation-1")
    return apply_all(Snapshot(), [
        ev.IssueSeen(ts=T0, issue_data=Issue(repo="o/r", number=1, title="One")),
        ev.SessionStarted(ts=T0, issue=KEY, session=first),
        ev.SessionFinished(ts=T0 + 1, issue=KEY, session_id="s-1", result=SessionResult(outcome=Outcome.FAILED, cost_usd=0.0243)),
        ev.RetryScheduled(ts=T0 + 1, issue=KEY, not_before=T0 + 1, error_class="gate_failed", resume_agent_session="conversation-1"),
        ev.SessionStarted(ts=T0 + 2, issue=KEY, session=_session(2, agent_session)),
    ])


@pytest.mark.parametrize(("counts_resumed", "agent_session", "charged"), [
    (True, "conversation-1", 0.0099),   # a running total: the first round's $0.0243 taken off
    (False, "conversation-1", 0.0342),  # the agent gave this session's own part: as it is
    (True, "conversation-2", 0.0342),   # another conversation: nothing of it came before
])
def test_a_resumed_session_is_charged_what_it_added(counts_resumed: bool, agent_session: str, charged: float) -> None:
    snapshot = _after_first_round(agent_session)
    session = snapshot.tasks[KEY].session
    assert session is not None
    result = SessionResult(outcome=Outcome.SUCCEEDED, cost_usd=0.0342, cost_counts_resumed=counts_resumed)
    finished = end_events(snapshot, KEY, session, result, SessionPolicy(), T0 + 3)[0]
    assert isinstance(finished, ev.SessionFinished) and finished.result.cost_usd == pytest.approx(charged)
    after = apply_all(snapshot, [finished])
    assert sum(attempt.cost_usd for attempt in after.tasks[KEY].history) == pytest.approx(0.0243 + charged)
    assert replace(finished.result, cost_usd=0.0342) == result
