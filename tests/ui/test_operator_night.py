"""What the operator reads at night: run states and poll failures in the header, requeue all failed,
Ctrl-C, the quit question, keys that fit, a fixed issue column, causes shown where issues wait."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, SessionResult
from waterspider_tui.ui.commands import palette_entries
from waterspider_tui.ui.detail import detail_renderable
from waterspider_tui.ui.screens.dag import DagScreen
from waterspider_tui.ui.screens.modals import QuitScreen, TaskDetailScreen
from waterspider_tui.ui.widgets.dag_view import DagView
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.status_bar import StatusBar

from . import scenarios
from .pilots import notifications, select, settle, started, table
from .scenarios import NOW, key


def header(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one(StatusBar).render().plain


async def test_all_done_is_a_state_in_the_header() -> None:
    async with started("all_done") as (app, engine, pilot):
        assert "✔ all done" in header(app)
    async with started("all_done", size=(80, 24)) as (app, engine, pilot):
        assert "✔ all done" in header(app)


async def test_a_failed_poll_shows_its_age_and_retry_in_the_header() -> None:
    async with started("github_down", size=(200, 60)) as (app, engine, pilot):
        assert "✘ poll failed: ConnectError: [Errno -3] Temp… · retry 8s · last good 5m ago" in header(app)
        assert "polling now" not in header(app) and "next poll" not in header(app)
    async with started("github_down", size=(80, 24)) as (app, engine, pilot):
        assert "✘ poll 5m" in header(app)


async def test_requeue_all_failed_from_the_palette() -> None:
    async with started("failure") as (app, engine, pilot):
        entries = {text: callback for text, _, callback in palette_entries(app)}
        assert {"requeue failed auth", "requeue failed stalled", "requeue failed workspace", "requeue failed usage_limit"} <= set(entries)
        entries["requeue all failed"]()
        await settle(pilot)
        assert sorted(command.issue for command in engine.commands_of(cmd.Requeue)) == [key(501), key(502), key(503), key(505)]  # type: ignore[attr-defined]
        assert "4 issues requeued" in notifications(app)
        assert "requeue all failed" not in {text for text, _, _ in palette_entries(app)}


async def test_requeue_failed_of_one_class() -> None:
    async with started("failure") as (app, engine, pilot):
        app.requeue_failed("auth")
        await settle(pilot)
        assert engine.submitted == [cmd.Requeue(issue=key(501))]
        assert "1 issue requeued" in notifications(app)


async def test_ctrl_c_asks_the_quit_question_once() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert len([screen for screen in app.screen_stack if isinstance(screen, QuitScreen)]) == 1
        question = str(app.screen.query_one(".question").render())
        assert "Leave running: They go on without the control center" in question
        assert "reattach" in question and "Stop: They are stopped now and requeued" in question
        await pilot.press("c")
        await pilot.pause()
        assert engine.stopped == [] and app.is_running


async def test_the_key_bar_keeps_help_and_quit_at_every_width() -> None:
    for size in ((80, 24), (100, 30), (120, 36), (200, 60)):
        async with started(size=size) as (app, engine, pilot):
            keys = app.screen.query_one(KeyBar).render().plain
            assert "? help" in keys and "q quit" in keys, (size, keys)
            assert len(keys) <= size[0]


async def test_the_issue_number_stays_in_view_at_80_columns() -> None:
    async with started(size=(80, 24)) as (app, engine, pilot):
        running = table(app, "running")
        # The columns fit the panel (tests/ui/test_columns_fit.py): nothing is left to scroll to.
        assert running.max_scroll_x == 0
        running.scroll_to(x=running.max_scroll_x, animate=False, immediate=True)
        await pilot.pause()
        first_row = running.render_line(running.header_height).text
        assert first_row.lstrip().startswith("#443")


async def test_the_filter_box_sits_below_the_header() -> None:
    async with started(size=(80, 24)) as (app, engine, pilot):
        await pilot.press("slash")
        await pilot.pause()
        status = app.screen.query_one(StatusBar)
        box = app.screen.query_one("#filter")
        assert status.region.y == 0 and status.region.height == 1
        assert box.region.y == 1 and "waterspider" in header(app)


async def test_pins_and_bumps_show_in_the_blocked_panel() -> None:
    async with started() as (app, engine, pilot):
        engine.push(ev.IssuePinned(ts=NOW, issue=key(455), pinned=True, by="operator"),
                    ev.PriorityBumped(ts=NOW, issue=key(470), delta=1, by="operator"))
        await pilot.pause()
        blocked = table(app, "blocked")
        assert blocked.get_cell(key(455), "reason").plain.startswith("pinned · waits on #447 (running)")
        assert blocked.get_cell(key(470), "reason").plain.startswith("bump +1 · waits on #455")


async def test_the_dag_shows_the_failed_issue_that_blocks_work() -> None:
    async with started(size=(160, 40)) as (app, engine, pilot):
        await select(pilot, key(457))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DagScreen)
        picture = app.screen.query_one(DagView).picture
        assert picture is not None
        assert "✘ #441 max_turns: Migrate set" in picture.text.plain
        assert "1 failed issue they wait on" in picture.text.plain


async def test_the_failed_detail_gives_the_next_step_and_a_removed_worktree_is_marked(tmp_path: Path) -> None:
    gone = str(tmp_path / "worktrees" / "issue-442")
    info = scenarios.session(442, "local", 600, attempt=2, executor="local")
    info = type(info)(**{**info.__dict__, "worktree": gone})
    async with started() as (app, engine, pilot):
        engine.push(ev.IssueRequeued(ts=NOW, issue=key(442), by="operator"),
                    ev.SessionStarted(ts=NOW, issue=key(442), session=info),
                    ev.SessionFinished(ts=NOW, issue=key(442), session_id=info.session_id,
                                       result=SessionResult(outcome=Outcome.FAILED, error_class=scenarios.ErrorClass.TIMEOUT)))
        await select(pilot, key(442))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TaskDetailScreen)
        console = Console(width=200, file=io.StringIO(), record=True)
        console.print(detail_renderable(app.view, key(442), app.palette))  # type: ignore[arg-type]
        body = console.export_text()
        assert "next: The session ran past its time limit." in body
        assert f"{gone}  no longer there (removed)" in body
