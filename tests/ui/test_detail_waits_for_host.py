"""The detail of a ready issue no host can take now says why it waits (the engine's answer), never
"starts next": the plan counts slots, not which hosts are up or fit the issue. What the engine
answers for each case is tested on the real engine and pool: tests/engine/test_waits_for_host.py."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.ui.screens.modals import TaskDetailScreen

from .pilots import screen_lines, select, started
from .scenarios import Scenario, issue, key, polled, probe, seen


def _hosts_scenario() -> Scenario:
    events: list[ev.Event] = [*seen(
        issue(701, "Sign the macOS build", "P1", "host:mini-2"),
        issue(702, "Train the ranking model", "P2", "needs:gpu"),
        issue(703, "Tidy the changelog", "P3"),
    )]
    events += probe("mini-1", 2, 0, [0.5], 30)
    events += probe("mini-2", 2, 0, [None], None, reachable=False, error="mini-2: connection refused")
    events.append(polled())
    return Scenario("hosts_for_detail", events)


async def test_the_detail_says_why_a_ready_issue_waits_for_a_host() -> None:
    async with started(_hosts_scenario(), size=(160, 50)) as (app, engine, pilot):
        engine.waits = {key(701): "waits for a host: mini-2 unreachable", key(702): "waits for a host: mini-1 lacks gpu; mini-2 unreachable"}
        shown = {}
        for number in (701, 702, 703):
            await select(pilot, key(number))
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, TaskDetailScreen)
            shown[number] = "\n".join(screen_lines(app))
            await pilot.press("escape")
            await pilot.pause()
    # pinned to a host that is down
    assert "waits for a host: mini-2 unreachable" in shown[701] and "starts next" not in shown[701]
    # needs a label no reachable host has
    assert "waits for a host: mini-1 lacks gpu; mini-2 unreachable" in shown[702] and "starts next" not in shown[702]
    # mini-1 takes it
    assert "starts next" in shown[703] and "waits for a host" not in shown[703]
