"""The result aggregator: its figures are sums over the events they come from, whatever the slice."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from tests.reporting.report_fixture import NIGHT_START, night_events
from waterspider_tui.core import events as ev
from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.models import ErrorClass
from waterspider_tui.reporting.report_text import summary_lines, to_markdown
from waterspider_tui.reporting.results import collect


def _expected(events: list[ev.Event], since: float | None = None) -> dict:
    """The figures computed straight from the events, without the aggregator."""
    finished = [e for e in events if isinstance(e, ev.SessionFinished) and (since is None or e.ts >= since)]
    started = {e.session.session_id: e.session for e in events if isinstance(e, ev.SessionStarted)}
    last = {e.issue: e for e in finished}
    prs = {e.facts["pr_url"] for e in events if isinstance(e, ev.StepFinished) and "pr_url" in e.facts
           and e.session_id in {f.session_id for f in finished}}
    gate_round = {e.session_id for e in finished if e.result.error_class is ErrorClass.GATE_FAILED and e.will_retry}
    previous: dict[str, ev.SessionFinished] = {}
    sessions = 0
    for e in finished:
        sessions += not (e.issue in previous and previous[e.issue].session_id in gate_round)
        previous[e.issue] = e
    return {
        "issues": len(last), "sessions": sessions,
        "succeeded": sum(1 for e in last.values() if e.result.outcome.value == "succeeded"),
        "failed": sum(1 for e in last.values() if e.result.outcome.value == "failed" and not e.will_retry),
        "retrying": sum(1 for e in last.values() if e.result.outcome.value == "failed" and e.will_retry),
        "cancelled": sum(1 for e in last.values() if e.result.outcome.value == "cancelled"),
        "cost_usd": sum(e.result.cost_usd for e in finished), "duration_s": sum(e.result.duration_s for e in finished),
        "turns": sum(e.result.turns for e in finished), "pull_requests": len(prs),
        "hosts": Counter(started[e.session_id].host for e in finished),
        "failures": Counter(e.result.error_class.value for e in finished if e.result.error_class and e.session_id not in gate_round),
    }


@pytest.mark.parametrize("since", [None, NIGHT_START + 4 * 3600])
def test_the_figures_equal_the_events_they_come_from(since: float | None) -> None:
    events = night_events()
    figures = collect(events, since=since).figures()
    expected = _expected(events, since)
    totals = figures["totals"]
    for name in ("issues", "sessions", "succeeded", "failed", "retrying", "cancelled", "turns", "pull_requests"):
        assert totals[name] == expected[name], name
    assert totals["cost_usd"] == pytest.approx(expected["cost_usd"]) and totals["duration_s"] == pytest.approx(expected["duration_s"])
    assert {host: group["count"] for host, group in figures["by_host"].items()} == dict(expected["hosts"])
    assert {f["error_class"]: f["sessions"] for f in figures["failures"]} == dict(expected["failures"])
    assert all(f["advice"] == advice_for(ErrorClass(f["error_class"])) for f in figures["failures"])
    assert sum(b["cost_usd"] for b in figures["cost_over_time"]) == pytest.approx(expected["cost_usd"])
    assert sum(b["sessions"] for b in figures["cost_over_time"]) == expected["sessions"]
    assert sum(g["count"] for g in figures["by_milestone"].values()) == expected["issues"]
    assert sum(i["cost_usd"] for i in figures["issues"]) == pytest.approx(expected["cost_usd"])


def test_per_label_the_slowest_and_the_costliest() -> None:
    figures = collect(night_events()).figures()
    issues = figures["issues"]
    for label, group in figures["by_label"].items():
        own = [i for i in issues if label in i["labels"]]
        assert group["count"] == len(own) and group["cost_usd"] == pytest.approx(sum(i["cost_usd"] for i in own))
    assert [i["issue"] for i in figures["slowest"]] == [i["issue"] for i in sorted(issues, key=lambda i: -i["duration_s"])[:5]]
    assert figures["most_expensive"][0]["cost_usd"] == max(i["cost_usd"] for i in issues)


def test_an_issue_whose_last_session_will_retry_counts_as_retrying() -> None:
    events = night_events()
    last_finished = max(i for i, e in enumerate(events) if isinstance(e, ev.SessionFinished) and e.result.error_class is not None)
    event = events[last_finished]
    assert isinstance(event, ev.SessionFinished)
    events[last_finished] = replace(event, will_retry=True)
    issues = {i.issue: i for i in collect(events).issues}
    assert issues[event.issue].outcome == "retrying"


def test_a_store_with_nothing_finished_reports_nothing_without_failing() -> None:
    results = collect([])
    assert results.figures()["totals"]["issues"] == 0 and results.figures()["cost_over_time"] == []
    assert "No session finished" in to_markdown(results)
    assert summary_lines(results)[0].startswith("0 issues")


def test_the_summary_line_of_one_issue_and_one_session_is_in_the_singular() -> None:
    events = night_events()
    sessions = Counter(e.issue for e in events if isinstance(e, ev.SessionFinished))
    issue = next(key for key, count in sessions.items() if count == 1)
    one = collect(e for e in events if e.issue_key == issue)
    figures = one.figures()["totals"]
    line = summary_lines(one)[0]
    assert figures["issues"] == 1, figures
    assert line.startswith("1 issue: ") and " 1 issues" not in line
    assert figures["sessions"] == 1 and " · 1 session ·" in line
    assert (" 1 pull request" in line) == (figures["pull_requests"] == 1) and "1 pull requests" not in line


def test_gate_rounds_sent_back_are_rounds_of_one_attempt_not_failed_sessions() -> None:
    events = night_events()
    results = collect(events)
    lines = summary_lines(results)
    assert "  gate_failed after 3 rounds ×1: " + advice_for(ErrorClass.GATE_FAILED) in lines
    by_issue = {i.issue: i for i in results.issues}
    sent_back_then_passed, failed_after_three = by_issue["acme/widgets#5"], by_issue["acme/widgets#8"]
    assert (sent_back_then_passed.sessions, sent_back_then_passed.gate) == (1, "1 round sent back, then passed")
    assert (failed_after_three.sessions, failed_after_three.outcome, failed_after_three.gate) == (1, "failed", "failed after 3 rounds")
    in_progress = collect([e for e in events if not (isinstance(e, ev.SessionFinished) and e.session_id == "8-3-s")])
    assert {i.issue: i.gate for i in in_progress.issues}["acme/widgets#8"] == "2 rounds sent back so far"
    assert not [f for f in in_progress.figures()["failures"] if f["error_class"] == "gate_failed"]


def test_issues_seen_with_no_session_ended_are_said_in_the_summary() -> None:
    events = night_events()
    first_finished = next(i for i, e in enumerate(events) if isinstance(e, ev.SessionFinished))
    stopped_early = events[:first_finished]
    seen = len({e.issue_data.key for e in stopped_early if isinstance(e, ev.IssueSeen)})
    [totals] = summary_lines(collect(stopped_early))
    assert totals.startswith("0 issues: ") and totals.endswith(f" · {seen} more seen, no session of theirs ended"), totals
    [everything, *_] = summary_lines(collect(events))
    assert "more seen" not in everything
