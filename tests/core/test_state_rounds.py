"""A session with rounds where it ran (a CI runner's gate sending the work back): each earlier round
is an attempt of its own in the history, as local gate rounds are, and the spend counts them all."""

from __future__ import annotations

from core_builders import T0, finished, issue, key, snapshot, started
from waterspider_tui.core.models import EarlierRound, ErrorClass, Outcome, TaskState
from waterspider_tui.core.state import utc_day


def test_earlier_rounds_are_attempts_of_their_own_and_the_next_start_is_numbered_after_them() -> None:
    rounds = (
        EarlierRound(session_id="s-1-1.1", attempt=1, error_class=ErrorClass.GATE_FAILED, error="gate: gate failed: tests", cost_usd=0.25, turns=4, duration_s=30.0),
        EarlierRound(session_id="s-1-1.2", attempt=2, error_class=ErrorClass.GATE_FAILED, error="gate: gate failed: tests", cost_usd=0.125, turns=2, duration_s=20.0),
    )
    state = snapshot(issue(1), events=[started(1, ts=T0), finished(1, ts=T0 + 90, cost=0.5, earlier_rounds=rounds)])
    task = state.tasks[key(1)]
    assert task.state is TaskState.SUCCEEDED
    assert [(a.session_id, a.attempt, a.outcome, a.error_class, a.will_retry, a.cost_usd) for a in task.history] == [
        ("s-1-1.1", 1, Outcome.FAILED, ErrorClass.GATE_FAILED, True, 0.25),
        ("s-1-1.2", 2, Outcome.FAILED, ErrorClass.GATE_FAILED, True, 0.125),
        ("s-1-1", 3, Outcome.SUCCEEDED, None, False, 0.5),
    ]
    assert task.attempts == 3 and task.session is not None and task.session.attempt == 3, "the session stands for its last round"
    assert all(a.log_path == "/logs/1-1.jsonl" and a.host == "localhost" for a in task.history)
    assert state.spend_by_day[utc_day(T0 + 90)] == 0.875
