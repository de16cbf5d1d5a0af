"""Every key a screen lists in the help does what it says: each way out of each screen, the pagers'
stepping keys not covered elsewhere, and tab through the panels (which the narrow layout hides)."""

from __future__ import annotations

from waterspider_tui.core import events as ev
from waterspider_tui.ui.screens.control import ControlScreen
from waterspider_tui.ui.screens.dag import DagScreen
from waterspider_tui.ui.screens.diff_pager import DiffScreen
from waterspider_tui.ui.screens.log_pager import LogScreen
from waterspider_tui.ui.screens.modals import ConfirmScreen, HelpScreen, ProblemsScreen, QuitScreen, TaskDetailScreen
from waterspider_tui.ui.screens.summary import SummaryScreen
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.pager_log import PagerLog
from waterspider_tui.ui.widgets.panel import PANELS

from .pilots import notifications, screen_lines, select, settle, started
from .scenarios import NOW, key

WAYS_OUT = [
    (None, ("question_mark",), HelpScreen, ("question_mark", "q")),
    (441, ("enter",), TaskDetailScreen, ("enter", "q")),
    (None, ("w",), ProblemsScreen, ("escape", "q")),
    (441, ("l",), LogScreen, ("q",)),
    (440, ("D",), DiffScreen, ("q",)),
    (None, ("R",), SummaryScreen, ("escape", "q")),
    (443, ("x",), ConfirmScreen, ("escape",)),
    (None, ("q",), QuitScreen, ("escape",)),
    (None, ("d",), DagScreen, ("escape", "d")),
]
"""(issue to select, keys that open the screen, the screen, each key that closes it); the keys
tested elsewhere (escape on most, `c`, `n`, `w`, `R`) are left out to keep this short."""


async def test_each_way_out_of_each_screen_leads_back_to_the_queues() -> None:
    async with started("mid_run", size=(80, 24)) as (app, engine, pilot):
        engine.push(ev.Warned(ts=NOW, message="#999 is referenced but does not exist"))
        for issue, opening, screen, closing in WAYS_OUT:
            for close_key in closing:
                if issue is not None:
                    await select(pilot, key(issue))
                await pilot.press(*opening)
                await settle(pilot)
                assert isinstance(app.screen, screen), f"{opening} opens {screen.__name__}"
                if screen is HelpScreen:
                    shown = "\n".join(screen_lines(app))
                    assert "Pause or resume the selected issue" in shown and "pause_issue" in shown, "at 80 columns the ids follow the descriptions"
                await pilot.press(close_key)
                await settle(pilot)
                assert isinstance(app.screen, ControlScreen), f"{close_key} leaves {screen.__name__}"
        assert engine.stopped == [] and not any(command.__class__.__name__ == "Cancel" for command in engine.submitted)


async def test_tab_shows_the_next_panel_by_number_and_panel_keys_work_from_any_screen() -> None:
    """At 80x24 the other panels are hidden, so the focus chain alone would stay put; shift+tab goes back."""
    async with started("mid_run", size=(80, 24)) as (app, engine, pilot):
        control = app.screen
        assert isinstance(control, ControlScreen)
        shown = []
        for _ in PANELS:
            await pilot.press("tab")
            shown.append(control.current_panel)
            assert control.query_one(f"#{control.current_panel}") in app.focused.ancestors  # type: ignore[union-attr]
        assert shown == ["ready", "blocked", "finished", "hosts", "log", "events", "running"]
        await pilot.press("shift+tab")
        assert control.current_panel == "events"

        # From a screen over the queues, a panel key or the filter brings them back and acts there.
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, ControlScreen) and app.screen.has_class("-filtering"), "the filter opens where it is seen"
        await pilot.press("escape")
        await select(pilot, key(440))
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, ControlScreen) and app.screen.current_panel == "blocked"


async def test_the_log_pager_steps_through_errors_and_attempts_and_its_search_box_keys() -> None:
    async with started("mid_run", size=(100, 30)) as (app, engine, pilot):
        await select(pilot, key(441))
        await pilot.press("l")
        await settle(pilot)
        pager = app.screen
        assert isinstance(pager, LogScreen) and pager.attempt == 2
        log = pager.query_one(PagerLog)
        await pilot.press("e", "e")
        second = log.current_line
        await pilot.press("E")
        assert log.current_line < second, "E goes to the error before"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert pager.attempt == 1
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert pager.attempt == 2
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert pager.attempt == 2 and "No newer attempt." in notifications(app)

        # While a search is typed, the key bar offers what works in the box, not keys it takes as text.
        await pilot.press("slash", *"py")
        await pilot.pause()
        bar = pager.query_one(KeyBar).render().plain
        assert "find" in bar and "esc cancel" in bar, bar
        assert "/ search" not in bar and "n next" not in bar, f"typed keys go into the box: {bar}"
        await pilot.press("escape", "escape", "slash")
        await pilot.pause()
        assert "esc clear filter" in app.screen.query_one(KeyBar).render().plain


async def test_the_results_offer_no_issue_keys_and_r_reloads_them_and_the_diff() -> None:
    async with started("mid_run", size=(120, 35)) as (app, engine, pilot):
        await select(pilot, key(443))
        await pilot.press("R")
        await settle(pilot)
        bar = app.screen.query_one(KeyBar).render().plain
        assert "x cancel" not in bar and "detail" not in bar and "r reload" in bar, "the results show no selection for them to act on"
        await pilot.press("x", "enter", "space")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen) and engine.submitted == []
        calls: list[str] = []
        original = engine.load_results

        async def counted() -> dict[str, object]:
            calls.append("read")
            return await original()

        engine.load_results = counted  # type: ignore[method-assign]
        await pilot.press("r")
        await settle(pilot)
        assert calls == ["read"] and isinstance(app.screen, SummaryScreen)
        await pilot.press("escape")

        await select(pilot, key(440))
        await pilot.press("D")
        await settle(pilot)
        log = app.screen.query_one(PagerLog)
        engine.diffs[key(440)] = "diff --git a/only.txt b/only.txt\n--- a/only.txt\n+++ b/only.txt\n@@ -1 +1 @@\n-a\n+b\n"
        await pilot.press("r")
        await settle(pilot)
        assert "only.txt" in "\n".join(str(line) for line in log.lines)


def test_the_help_lists_the_diff_pagers_scrolling_keys() -> None:
    """The diff pager scrolls with the log pager's keys; the help says so under both."""
    from waterspider_tui.ui.key_map import key_scopes

    scopes = {scope.title: {binding.key for binding in scope.bindings} for scope in key_scopes()}
    assert {"home,g", "end,G", "pagedown,space"} <= scopes["Diff (D)"]
    assert scopes["Diff (D)"] >= scopes["Log pager (l)"] - {binding.key for binding in LogScreen.BINDINGS}
