"""The run's state words and the poll lines shared by the header, `status` and `--no-ui`."""

from __future__ import annotations

import io

from tests.ui import scenarios
from tests.ui.scenarios import NOW
from waterspider_tui.core import events as ev
from waterspider_tui.core.state import replay
from waterspider_tui.headless import LinePrinter, SafeOut
from waterspider_tui.text import run_state as state


def _state(scenario: scenarios.Scenario) -> state.RunState:
    engine = scenario.engine()
    return state.run_state(engine.snapshot, engine.plan(), NOW)


def test_the_run_states() -> None:
    assert _state(scenarios.mid_run()).word == state.DISPATCHING
    assert _state(scenarios.failure()) == state.RunState(state.PAUSED, "usage_limit: waiting for the reset")
    assert _state(scenarios.all_done()) == state.RunState(state.ALL_DONE)
    assert _state(scenarios.empty()).word == state.NO_ISSUES


def test_nothing_can_start_and_waiting_for_a_retry_are_told_apart() -> None:
    issues = [scenarios.issue(1, "Base", "P1"), scenarios.issue(2, "On top", "P1", deps=(1,))]
    failed = [*scenarios.seen(*issues), *scenarios.finish(1, "local", 60, scenarios.Outcome.FAILED, 30, error=scenarios.ErrorClass.AUTH)]
    stuck = _state(scenarios.Scenario("stuck", failed))
    assert stuck == state.RunState(state.STUCK, "nothing can start: 1 blocked")
    retry = failed + [ev.RetryScheduled(ts=NOW - 20, issue=scenarios.key(1), not_before=NOW + 90, error_class="crashed")]
    assert _state(scenarios.Scenario("retry", retry)) == state.RunState(state.WAITING, "next retry in 1m")


def test_all_done_only_when_everything_succeeded_else_finished_with_the_failures() -> None:
    issues = [scenarios.issue(n, f"Issue {n}", "P1") for n in (1, 2, 3, 4)]
    events = [*scenarios.seen(*issues)]
    for number, outcome in ((1, scenarios.Outcome.SUCCEEDED), (2, scenarios.Outcome.FAILED), (3, scenarios.Outcome.SUCCEEDED), (4, scenarios.Outcome.FAILED)):
        error = scenarios.ErrorClass.AGENT_EXIT if outcome is scenarios.Outcome.FAILED else None
        events += scenarios.finish(number, "local", 60, outcome, 30, error=error)
    mixed = scenarios.Scenario("mixed", events)
    assert _state(mixed) == state.RunState(state.FINISHED, "2 failed")
    assert _state(scenarios.all_done()) == state.RunState(state.ALL_DONE)


def _poll(ago: float, ok: bool, message: str = "") -> ev.SourcePolled:
    return ev.SourcePolled(ts=NOW - ago, source="github:acme/widgets", ok=ok, message=message, next_poll=NOW - ago + 10)


class _Keys:
    display_key = staticmethod(lambda key: "#" + key.rpartition("#")[2])


def test_no_ui_prints_every_failed_poll_and_the_recovery_not_every_good_poll() -> None:
    polls = [_poll(400, True), _poll(390, True), _poll(300, False, "ConnectError: timed out"), _poll(290, False, "ConnectError: timed out"), _poll(100, True), _poll(90, True)]
    out = io.StringIO()
    printer = LinePrinter(_Keys(), SafeOut(out, lambda: None), json_lines=False)  # type: ignore[arg-type]
    for poll in polls:
        printer(replay([]), [poll])
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "github:acme/widgets: ok",
        "github:acme/widgets: poll failed (ConnectError: timed out), retry in 10s, last good poll 1m ago",
        "github:acme/widgets: poll failed (ConnectError: timed out), retry in 10s, last good poll 1m ago",
        "github:acme/widgets: polling works again (no good poll for 4m)",
    ]


def test_json_lines_keep_every_poll() -> None:
    out = io.StringIO()
    printer = LinePrinter(_Keys(), SafeOut(out, lambda: None), json_lines=True)  # type: ignore[arg-type]
    printer(replay([]), [_poll(20, True), _poll(10, True)])
    assert len(out.getvalue().splitlines()) == 2


def test_the_snapshot_keeps_the_last_good_poll() -> None:
    snapshot = replay([_poll(300, True), _poll(200, False, "502"), _poll(100, False, "502")])
    troubles = state.poll_troubles(snapshot)
    assert [(t.source, t.message, t.last_ok_at) for t in troubles] == [("github:acme/widgets", "502", NOW - 300)]
    assert troubles[0].text(NOW) == "github:acme/widgets: poll failed (502), retrying now, last good poll 5m ago"


def test_a_broken_pipe_is_told_once_and_later_writes_go_nowhere() -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    told: list[int] = []
    out = SafeOut(Closed(), lambda: told.append(1))
    out.write("a\n")
    out.write("b\n")
    out.flush()
    assert told == [1] and out.broken


def test_a_source_that_never_answered_is_not_told_as_no_issues() -> None:
    failed = ev.SourcePolled(ts=NOW - 3, source="github", ok=False, message="GitHub GET … failed: 401 Bad credentials", next_poll=NOW + 6)
    never = _state(scenarios.Scenario("never answered", [failed]))
    assert never == state.RunState(state.NO_ANSWER, "no source has answered yet")
    assert never.word != state.NO_ISSUES and never.mark
    answered = ev.SourcePolled(ts=NOW - 1, source="github", ok=True, next_poll=NOW + 9)
    assert _state(scenarios.Scenario("answered, nothing labeled", [failed, answered])).word == state.NO_ISSUES


def test_a_retry_a_fraction_under_two_seconds_away_is_told_as_two() -> None:
    trouble = state.PollTrouble("github", "network error: ConnectError", retry_at=NOW + 1.99, last_ok_at=None)
    assert trouble.text(NOW) == "github: poll failed (network error: ConnectError), retry in 2s, no good poll yet"


def test_a_network_error_has_no_status_number() -> None:
    from waterspider_tui.adapters.github.errors import GitHubUnavailable

    assert str(GitHubUnavailable(0, "network error: ConnectError", "http://127.0.0.1:9/x")) == "GitHub GET http://127.0.0.1:9/x failed: network error: ConnectError"
    assert str(GitHubUnavailable(502, "Bad Gateway", "http://h/x")) == "GitHub GET http://h/x failed: 502 Bad Gateway"
