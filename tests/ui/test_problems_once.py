"""The Problems list (w) and the header's ⚠ count name each warning once, however many starts
recorded it again: a cycle is warned at every start, and the event log keeps every one."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.ui.screens.modals import ProblemsScreen
from waterspider_tui.ui.widgets.status_bar import StatusBar

from . import scenarios
from .pilots import settle, started

TWO_CYCLE = "dependency cycle #610 → #611 → #610: these issues are held until it is broken"
THREE_CYCLE = "dependency cycle #620 → #622 → #621 → #620: these issues are held until it is broken"
UNKNOWN_REF = "#630 refers to #999, which is not known: not waiting on it"


def _three_starts() -> scenarios.Scenario:
    """The cycle scenario as a store looks after three starts, each warning about what it found."""
    chosen = scenarios.cycle()
    events = [event for event in chosen.events if not isinstance(event, ev.Warned)]
    for start in range(3):
        at = scenarios.NOW - (3 - start) * 3600
        events += [
            ev.Warned(ts=at, message=TWO_CYCLE),
            ev.Warned(ts=at, message=THREE_CYCLE),
            ev.Warned(ts=at, issue=scenarios.key(630), message=UNKNOWN_REF),
        ]
    return scenarios.Scenario("three_starts", events)


async def test_warnings_recorded_at_every_start_are_listed_once() -> None:
    async with started(_three_starts(), size=(200, 50)) as (app, _, pilot):
        assert "⚠ 3 warnings" in app.screen.query_one(StatusBar).render().plain
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ProblemsScreen)
        body = str(app.screen.query_one("#problems-body").render())
        assert "Warnings (3)" in body
        for warning in (TWO_CYCLE, THREE_CYCLE, UNKNOWN_REF):
            assert body.count(warning) == 1, body
