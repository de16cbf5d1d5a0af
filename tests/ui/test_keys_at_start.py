"""Keys typed while the control center starts (the terminal hands them over at once) act as keys.

A real terminal buffers what the operator types during the seconds `waterspider run` takes to
start; the driver posts it all to the app before its first screen is up. Posting key events
before `run_test` starts the app is that same order of messages.
"""

from __future__ import annotations

from textual import events
from textual.keys import _character_to_key

from waterspider_tui.ui.screens.control import ControlScreen
from waterspider_tui.ui.screens.modals import QuitScreen

from .pilots import make_app, settle


def _typed_during_start_up(app: object, typed: str) -> None:
    for character in typed:
        app.post_message(events.Key(_character_to_key(character), character))  # type: ignore[attr-defined]


async def test_a_digit_typed_during_start_up_shows_its_panel_and_filters_nothing() -> None:
    app, _ = make_app("mid_run")
    _typed_during_start_up(app, "3")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        control = app.screen
        assert isinstance(control, ControlScreen)
        assert control.filter_text == ""
        assert not control.has_class("-filtering")
        assert control.focused is not None and control.focused.id == "blocked-table"


async def test_q_typed_during_start_up_quits_without_sessions_running() -> None:
    app, engine = make_app("empty")
    _typed_during_start_up(app, "q")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert engine.stopped == [True]
    assert app.return_code == 0


async def test_q_typed_during_start_up_asks_about_the_running_sessions() -> None:
    app, _ = make_app("mid_run")
    _typed_during_start_up(app, "q")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QuitScreen)


async def test_slash_typed_during_start_up_opens_the_filter_for_what_follows() -> None:
    app, _ = make_app("mid_run")
    _typed_during_start_up(app, "/")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        control = app.screen
        assert isinstance(control, ControlScreen)
        assert control.has_class("-filtering")
        await pilot.press("4", "5")
        assert control.filter_text == "45"
