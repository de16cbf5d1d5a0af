"""A dependant of an issue whose file cannot be read names that file's error in the Blocked panel and
in its detail, instead of calling its blocker unknown."""

from __future__ import annotations

from dataclasses import replace

from waterspider_tui.core import events as ev

from .pilots import screen_lines, select, settle, started
from .scenarios import NOW, Scenario, issue, key, polled, seen

ERROR = "7-blocker.md: no title"


def _scenario() -> Scenario:
    dependant = replace(issue(8, "Ship the blocker's follow-up", "P2", deps=(7,)), external_open=(key(7),))
    events: list[ev.Event] = [*seen(dependant), ev.IssueRejected(ts=NOW - 60, path="issues/7-blocker.md", error=ERROR, issue=key(7)), polled()]
    return Scenario("broken_blocker", events)


async def test_the_blocked_panel_and_the_detail_name_the_unreadable_file() -> None:
    async with started(_scenario(), size=(200, 50)) as (app, engine, pilot):
        blocked_panel = "\n".join(screen_lines(app))
        assert f"waits on #7 (its file cannot be read: {ERROR})" in blocked_panel
        assert "unknown here" not in blocked_panel
        await select(pilot, key(8))
        await pilot.press("enter")
        await settle(pilot)
        detail = "\n".join(screen_lines(app))
        assert f"its file cannot be read: {ERROR}" in detail
        assert "unknown here" not in detail

        engine.push(ev.IssueSeen(ts=NOW, issue_data=issue(7, "Blocker")))  # the file reads again
        await settle(pilot)
        assert "cannot be read" not in "\n".join(screen_lines(app))
