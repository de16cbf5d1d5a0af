"""Any session's log, ended or running, in the panel and full screen: search, errors, attempts, follow."""

from __future__ import annotations

from waterspider_tui.core.models import LogEntry
from waterspider_tui.ui.screens.control import ControlScreen
from waterspider_tui.ui.screens.log_pager import LogScreen
from waterspider_tui.ui.widgets.pager_log import PagerLog
from waterspider_tui.ui.widgets.agent_log import AgentLog

from .pilots import select, settle, started
from .scenarios import key


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)


async def test_a_failed_issue_shows_its_log_read_from_where_it_ran() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(441))
        await _settled(pilot)
        assert app.log_issue == key(441)
        assert (key(441), None) in engine.loaded, "the ended session's log is read, not the live buffer"
        lines = app.screen.query_one(AgentLog).lines
        assert lines[-1].startswith("◆ failed, max_turns")
        assert not app.screen.query_one("#log").has_class("-empty")


async def test_an_issue_that_never_ran_has_no_log_key() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(450))
        assert app.check_action("open_log", ()) is None
        await pilot.press("l")
        await pilot.pause()
        assert not isinstance(app.screen, LogScreen)


async def test_l_opens_the_pager_which_jumps_to_errors_and_searches() -> None:
    async with started(size=(100, 30)) as (app, engine, pilot):
        await select(pilot, key(441))
        await pilot.press("l")
        await _settled(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen) and screen.attempt == 2
        log = screen.query_one(PagerLog)
        assert log.line_count == 13
        await pilot.press("e")
        await pilot.pause()
        assert log.lines[log.current_line or 0] == "  → error: 3 failed, 21 passed in 4.10s"
        await pilot.press("e")
        assert log.lines[log.current_line or 0] == "  → error: 1 failed, 23 passed in 4.02s"
        await pilot.press("slash")
        await pilot.pause()
        assert screen.query_one("#log-search").has_focus
        await pilot.press(*"validators", "enter")
        await pilot.pause()
        assert log.current_line == 6 and log.has_focus
        assert "1 match for “validators”" in str(screen.query_one("#log-position").render())
        await pilot.press("slash", "x")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert log.has_focus and not screen.has_class("-searching") and screen.needle == "validators"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ControlScreen)
        assert engine.submitted == []


async def test_brackets_step_through_the_attempts() -> None:
    async with started(size=(100, 30)) as (app, engine, pilot):
        app.open_log(key(441))
        await _settled(pilot)
        await pilot.press("left_square_bracket")
        await _settled(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen) and screen.attempt == 1
        assert engine.loaded[-1] == (key(441), 1)
        assert screen.query_one(PagerLog).lines[0] == "· session s-441-1 started · claude · model sonnet"
        assert "attempt 1 of 2" in str(screen.query_one("#log-title").render())
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.attempt == 1


async def test_a_running_sessions_log_is_followed_in_the_pager() -> None:
    async with started(size=(100, 30)) as (app, engine, pilot):
        app.open_log(key(443))
        await _settled(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen) and screen.following
        log = screen.query_one(PagerLog)
        before = log.line_count
        engine.push_logs(key(443), [LogEntry("tool", f"Bash make step-{n}") for n in range(40)])
        await settle(pilot)
        assert log.line_count == before + 40
        assert log.lines[-1] == "● Bash make step-39"
        assert log.scroll_y == log.max_scroll_y, "following keeps the end in view"
        await pilot.press("f")
        await pilot.pause()
        assert not screen.following


async def test_the_detail_opens_the_log_too() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(441))
        await pilot.press("enter", "l")
        await _settled(pilot)
        assert isinstance(app.screen, LogScreen) and app.screen.issue_key == key(441)


async def test_the_log_panel_starts_over_with_the_next_attempt_and_says_which() -> None:
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.models import ErrorClass, Outcome, Progress, SessionResult

    from .scenarios import NOW, run

    async with started(size=(200, 50)) as (app, engine, pilot):
        await select(pilot, key(443))
        await _settled(pilot)
        panel = app.screen.query_one("#log")
        assert app.log_issue == key(443) and "attempt 1" in str(panel.border_title)
        engine.push_logs(key(443), [LogEntry("tool", "Bash make first-try")])
        await settle(pilot)
        assert app.screen.query_one(AgentLog).lines[-1] == "● Bash make first-try"
        failed = SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.STALLED, error="no output", duration_s=60)
        engine.push(ev.SessionFinished(ts=NOW - 10, issue=key(443), session_id="s-443-1", result=failed))
        engine.logs[key(443)] = [LogEntry("system", "session s-443-2 started · claude · model sonnet")]
        engine.push(*run(443, "mini-1", 5, Progress("reading", 1, 5, 2, 0.1, "Read src/auth/login.py", NOW - 3), attempt=2))
        engine.push_logs(key(443), [LogEntry("tool", "Bash make second-try")])
        app.refresh_view()
        await _settled(pilot)
        lines = app.screen.query_one(AgentLog).lines
        assert "attempt 2" in str(panel.border_title) and "attempt 1" not in str(panel.border_title)
        assert "● Bash make second-try" in lines and "● Bash make first-try" not in lines, lines


async def test_the_events_panel_keeps_the_newest_events_in_view_when_it_shrinks() -> None:
    from waterspider_tui.ui.widgets.agent_log import EventLog

    async with started(size=(200, 60)) as (app, engine, pilot):
        await settle(pilot)
        events = app.screen.query_one(EventLog)
        assert events.max_scroll_y > 0 and events.scroll_y == events.max_scroll_y
        for height in (50, 44, 38):
            await pilot.resize_terminal(200, height)
            await settle(pilot)
            assert events.scroll_y == events.max_scroll_y, (height, events.scroll_y, events.max_scroll_y)
        events.scroll_to(y=0, animate=False, immediate=True)
        await pilot.resize_terminal(200, 34)
        await settle(pilot)
        assert events.scroll_y == 0, "scrolled back by the operator: it stays where they left it"
