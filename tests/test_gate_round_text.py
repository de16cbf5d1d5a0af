"""A gate round's lines say 'gate failed' once each; a round sent back names its round, the last failure its check."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome, SessionResult
from waterspider_tui.text.event_text import describe

# As the gate step words its summary and the engine the session's error (`after_agent._failed`).
ROUND_1 = "gate failed: test -f README.md (exit 1 after 0.0s); back to the agent (round 1 of 2)"
LAST = "gate failed: test -f README.md (exit 1 after 0.0s)"


def _finished(error: str, *, will_retry: bool) -> ev.SessionFinished:
    result = SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.GATE_FAILED, error=f"gate: {error}", turns=3, cost_usd=0.1, duration_s=2.0)
    return ev.SessionFinished(ts=1.0, issue="local#1", session_id="s-1", result=result, will_retry=will_retry)


def test_each_gate_line_says_gate_failed_once() -> None:
    step = describe(ev.StepFinished(ts=1.0, issue="local#1", session_id="s-1", step="gate", ok=False, summary=ROUND_1))
    assert step == f"#1 {ROUND_1}"
    sent_back = describe(_finished(ROUND_1, will_retry=True))
    assert sent_back == "#1 gate failed after 2s, $0.10, 3 turns, 0 commits: sent back to the agent (round 1 of 2)"
    last = describe(_finished(LAST, will_retry=False))
    assert last is not None and last.startswith(f"#1 failed (gate_failed): {LAST} after 2s") and last.count("gate failed") == 1
    other = describe(ev.StepFinished(ts=1.0, issue="local#1", session_id="s-1", step="push", ok=False, summary="rejected by origin"))
    assert other == "#1 push failed: rejected by origin"
