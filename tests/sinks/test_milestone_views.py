"""Milestone progress where the operator reads it: `waterspider status` (text and JSON) and the report."""

from __future__ import annotations

import json

from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import plan
from waterspider_tui.reporting.report_html import to_html
from waterspider_tui.reporting.report_text import to_json, to_markdown
from waterspider_tui.reporting.results import collect
from waterspider_tui.text.milestone_text import milestone_rows
from waterspider_tui.text.status_text import status_dict, status_lines

from .backlog import T0, issue, key, ran, seen, snapshot_of, started


def backlog() -> list[ev.Event]:
    """v1.0: #1 done, #2 running, #3 failed, #4 waits on #3; v2.0: both done and integrated into a PR."""
    events = seen(issue(1), issue(2, deps=[1]), issue(3), issue(4, deps=[3]), issue(5, milestone="v2.0"), issue(6, milestone="v2.0"), issue(7, milestone=None))
    events += ran(1) + [started(2, T0 + 1)] + ran(3, T0 + 2, ok=False) + ran(5, T0 + 3) + ran(6, T0 + 4)
    events.append(ev.MilestoneIntegrated(
        ts=T0 + 5, repo="local", milestone="v2.0", branch="integration/v2.0", head="0123456789abcdef", issues=(key(5), key(6)),
        gate_ok=True, gate_summary="tests ok", pull_request=12, published="pull request #12 opened", summary="milestone v2.0: 2 issues integrated",
    ))
    return events


def test_status_lists_each_milestone_with_its_counts_blockers_and_integration() -> None:
    snapshot = snapshot_of(backlog())
    lines = status_lines(snapshot, plan(snapshot, T0 + 10), T0 + 10)
    start = lines.index("milestones (2):")
    assert lines[start + 1] == "     v1.0: 1/4 done · 1 running · 1 blocked · 1 failed (blocked by #3)"
    assert lines[start + 2] == "     v2.0: 2/2 done"
    assert lines[start + 3] == "       integrated into integration/v2.0 at 0123456789, gate passed, pull request #12"

    data = status_dict(snapshot, plan(snapshot, T0 + 10), T0 + 10)
    v1, v2 = json.loads(json.dumps(data))["milestones"]
    assert (v1["milestone"], v1["total"], v1["done"], v1["running"], v1["blocked"], v1["failed"], v1["blocking"]) == (
        "v1.0", 4, [key(1)], [key(2)], [key(4)], [key(3)], [key(3)])
    assert v1["integration"] is None and v2["complete"] and v2["integration"]["state"] == "integrated" and v2["integration"]["pull_request"] == 12


def test_a_closed_milestone_says_so() -> None:
    events = backlog() + [ev.MilestoneClosed(ts=T0 + 6, repo="local", milestone="v2.0", number=4, pull_request=12)]
    snapshot = snapshot_of(events)
    lines = status_lines(snapshot, plan(snapshot, T0 + 10), T0 + 10)
    assert "       closed: integration pull request #12 merged" in lines
    assert milestone_rows(snapshot)[1]["closed_by_pull_request"] == 12


def test_no_milestone_no_section() -> None:
    snapshot = snapshot_of(seen(issue(1, milestone=None)))
    assert not any(line.startswith("milestones") for line in status_lines(snapshot, plan(snapshot, T0), T0))


def test_the_report_has_a_milestones_section_in_every_format() -> None:
    events = backlog()
    results = collect(events)
    from dataclasses import replace

    results = replace(results, milestones=tuple(milestone_rows(snapshot_of(events))))
    markdown = to_markdown(results)
    assert "## Milestones" in markdown
    assert "| v1.0 | 1 | 1 | 1 | 1 | 4 | #3 | – |" in markdown
    assert "| v2.0 | 2 | 0 | 0 | 0 | 2 | – | integrated into integration/v2.0 at 0123456789, gate passed, pull request #12 |" in markdown
    assert [row["milestone"] for row in json.loads(to_json(results))["milestones"]] == ["v1.0", "v2.0"]
    assert "<h2>Milestones</h2>" in to_html(results, generated_at=T0)
    assert "## Milestones" not in to_markdown(collect(events)), "no section without the snapshot's figures"
