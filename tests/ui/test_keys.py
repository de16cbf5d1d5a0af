"""Every key: the command the engine received and what the screen shows after it."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from tests.waiting import until
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Progress
from waterspider_tui.ui.screens.dag import DagScreen
from waterspider_tui.ui.screens.modals import ConfirmScreen, HelpScreen, ProblemsScreen, QuitScreen, TaskDetailScreen
from waterspider_tui.ui.widgets.dag_view import DagView
from waterspider_tui.ui.widgets.status_bar import StatusBar

from .pilots import notifications, select, settle, started, table
from .scenarios import Scenario, issue, key, mid_run_events, seen
from .scenarios import run as run_events


async def test_p_pauses_then_resumes_the_dispatcher() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("p")
        await settle(pilot)
        assert engine.submitted == [cmd.PauseDispatcher()]
        assert "dispatch paused: running sessions go on, no new ones start" in notifications(app)
        assert "‖" in app.screen.query_one(StatusBar).render().plain
        await pilot.press("p")
        await settle(pilot)
        assert engine.submitted[-1] == cmd.ResumeDispatcher()
        assert "● dispatching" in app.screen.query_one(StatusBar).render().plain


async def test_space_pauses_a_ready_issue_and_resumes_it_from_blocked() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(450))
        await pilot.press("space")
        await settle(pilot)
        assert engine.submitted == [cmd.PauseIssue(issue=key(450))]
        assert "#450 paused" in notifications(app)
        assert key(450) not in table(app, "ready").keys
        assert key(450) in table(app, "blocked").keys
        await select(pilot, key(450))
        await pilot.press("space")
        await settle(pilot)
        assert engine.submitted[-1] == cmd.ResumeIssue(issue=key(450))
        assert key(450) in table(app, "ready").keys


async def test_plus_and_minus_bump_the_selected_issue() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(453))
        await pilot.press("plus")
        await settle(pilot)
        assert engine.submitted == [cmd.Bump(issue=key(453), delta=1)]
        assert "#453 priority raised (bump +1)" in notifications(app)
        assert "bump +1" in table(app, "ready").get_cell(key(453), "marks").plain
        await pilot.press("minus")
        await settle(pilot)
        assert engine.submitted[-1] == cmd.Bump(issue=key(453), delta=-1)
        assert table(app, "ready").get_cell(key(453), "marks").plain == ""


async def test_t_pins_and_unpins() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(450))
        await pilot.press("t")
        await settle(pilot)
        assert engine.submitted == [cmd.Pin(issue=key(450), pinned=True)]
        assert "#450 pinned to the top" in notifications(app)
        ready = table(app, "ready")
        assert ready.keys[:2] == [key(450), key(452)] or ready.keys[:2] == [key(452), key(450)]
        assert "pinned" in ready.get_cell(key(450), "marks").plain
        await pilot.press("t")
        await settle(pilot)
        assert engine.submitted[-1] == cmd.Pin(issue=key(450), pinned=False)


async def test_r_requeues_a_failed_issue() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(441))
        await pilot.press("r")
        await settle(pilot)
        assert engine.submitted == [cmd.Requeue(issue=key(441))]
        assert "#441 requeued" in notifications(app)
        assert key(441) not in table(app, "finished").keys
        assert key(441) in table(app, "ready").keys


async def test_actions_that_do_not_apply_are_greyed_and_send_nothing() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(443))
        assert app.check_action("requeue", ()) is None
        assert app.check_action("toggle_issue", ()) is None
        assert app.check_action("cancel_session", ()) is True
        bindings = app.screen.active_bindings
        assert bindings["r"].enabled is False and bindings["x"].enabled is True
        await pilot.press("r", "space", "plus", "t")
        await settle(pilot)
        assert engine.submitted == []


async def test_a_rejected_command_shows_the_engines_reason() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(441))
        engine.fail_with = ValueError("#441 is running: only failed or cancelled issues can be requeued")
        await pilot.press("r")
        await settle(pilot)
        assert engine.submitted == [cmd.Requeue(issue=key(441))]
        assert notifications(app)[-1] == "#441 is running: only failed or cancelled issues can be requeued"
        assert next(iter(app._notifications)).severity == "warning"


async def test_an_engine_error_on_submit_is_shown_not_raised() -> None:
    async with started() as (app, engine, pilot):
        engine.fail_with = RuntimeError("database is locked")
        await pilot.press("p")
        await settle(pilot)
        assert notifications(app)[-1] == "RuntimeError: database is locked"
        assert app.is_running


async def test_x_asks_before_cancelling_keeps_on_no_and_cancels_on_yes() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(443))
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert engine.submitted == [] and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "#443 Fix login crash on empty password" in app.screen.question
        assert engine.submitted == []
        await pilot.press("y")
        await settle(pilot)
        assert engine.submitted == [cmd.Cancel(issue=key(443))]
        assert "cancelling #443" in notifications(app)
        assert table(app, "running").get_cell(key(443), "phase").plain == "cancelling…"
        assert app.check_action("cancel_session", ()) is None


async def test_enter_opens_the_detail_with_the_score_and_escape_closes_it() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(448))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TaskDetailScreen)
        assert app.screen.issue_key == key(448)
        body = str(app.screen.query_one("#detail-body").render())
        assert body
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TaskDetailScreen)
        assert engine.submitted == []


async def test_slash_filters_every_queue_and_escape_clears() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("slash")
        await pilot.pause()
        assert app.screen.focused is not None and app.screen.focused.id == "filter"
        await pilot.press(*"webhook")
        await pilot.pause()
        assert table(app, "ready").keys == [key(448)]
        assert table(app, "blocked").keys == [key(464)]
        assert table(app, "running").keys == []
        await pilot.press("enter")
        await pilot.pause()
        assert table(app, "ready").keys == [key(448)]
        await pilot.press("escape")
        await pilot.pause()
        assert len(table(app, "ready").keys) == 6
        assert not app.screen.has_class("-filtering")


async def test_number_keys_switch_the_panel_on_a_small_terminal() -> None:
    async with started(size=(80, 24)) as (app, engine, pilot):
        screen = app.screen
        assert screen.has_class("-narrow")
        for number, panel in enumerate(("running", "ready", "blocked", "finished", "hosts", "log", "events"), 1):
            await pilot.press(str(number))
            await pilot.pause()
            assert screen.current_panel == panel
            shown = [widget.id for widget in screen.query(".panel") if widget.display and widget.region.height]
            assert shown == [panel]
        assert engine.submitted == []


async def test_d_shows_the_dag_and_arrows_move_between_issues() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(447))
        await pilot.press("d")
        await pilot.pause()
        assert app.current_mode == "dag" and isinstance(app.screen, DagScreen)
        dag = app.screen.query_one(DagView)
        assert dag.selected == key(447)
        await pilot.press("right")
        await pilot.pause()
        assert app.selected_issue == key(457), "the failed #441 that #457 waits on takes the first row"
        await pilot.press("up")
        await pilot.pause()
        assert app.selected_issue == key(455)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TaskDetailScreen) and app.screen.issue_key == key(455)
        await pilot.press("escape", "d")
        await pilot.pause()
        assert app.current_mode == "control"


async def test_question_mark_shows_every_key() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = [row[0] for row in app.screen.rows]
        for expected in ("p", "space", "+", "-", "t", "r", "x", "d", "/", "?", "q", "1", "7"):
            assert expected in keys
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_g_polls_the_sources_now() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("g")
        await settle(pilot)
        assert engine.submitted == [cmd.Refresh()]
        assert "polling the sources now" in notifications(app)


async def test_q_with_running_sessions_asks_and_can_leave_them_running() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("c")
        await pilot.pause()
        assert engine.stopped == [] and app.is_running and not isinstance(app.screen, QuitScreen)
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("l")
        await settle(pilot)
        assert engine.stopped == [True]
    assert app.return_code == 0


async def test_q_then_stop_stops_the_sessions() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot)
        assert engine.stopped == [False]


async def test_q_with_nothing_running_quits_at_once() -> None:
    async with started("empty") as (app, engine, pilot):
        await pilot.press("q")
        await settle(pilot)
        assert engine.stopped == [True]


async def test_keymap_from_config_remaps_a_key() -> None:
    async with started(keymap={"pause_dispatcher": "P", "help": "f1"}) as (app, engine, pilot):
        await pilot.press("p")
        await settle(pilot)
        assert engine.submitted == []
        await pilot.press("P")
        await settle(pilot)
        assert engine.submitted == [cmd.PauseDispatcher()]
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert ("P", "pause all", "Pause or resume starting new sessions", "pause_dispatcher") in app.screen.rows


async def test_help_gives_the_binding_ids_and_the_keys_of_every_screen() -> None:
    async with started(size=(160, 50), keymap={"dag_milestone": "M"}) as (app, engine, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        sections = dict(app.screen.sections)
        assert list(sections)[0] == "Control center"
        control = {row[3]: row for row in sections["Control center"]}
        assert control["pause_dispatcher"][:2] == ("p", "pause all") and control["shell"][0] == "s"
        dag = {row[3]: row for row in sections["Dependency graph (d)"]}
        assert dag["dag_milestone"][:2] == ("M", "milestone"), "the remapped key, under its id"
        hosts = {row[3]: row for row in sections["Hosts panel"]}
        assert hosts["host_drain"][0] == "space" and hosts["host_restore"][0] == "space"
        pager = {row[3]: row for row in sections["Log pager (l)"]}
        assert {"log_search", "log_next_match", "log_next_error", "log_follow", "log_older", "log_newer", "log_close"} <= set(pager)
        assert "page down" in pager[""][2] and "G" in pager[""][0], "the scrolling keys, which have no id"
        from rich.console import Console
        from textual.widgets import Static

        console = Console(width=150, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-keys", Static).content)
        text = console.export_text()
        assert "pause_dispatcher" in text and "dag_milestone" in text and "log_follow" in text and "Hosts panel" in text


async def test_keys_typed_at_once_reach_the_panel_just_shown() -> None:
    async with started(size=(80, 24)) as (app, engine, pilot):
        await pilot.press("4", "down", "down", "r")
        await settle(pilot)
        assert engine.submitted == [cmd.Requeue(issue=key(441))]
        assert app.screen.focused is table(app, "finished")


async def test_w_lists_rejected_files_and_warnings() -> None:
    async with started("failure") as (app, engine, pilot):
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        body = app.screen.query_one("#problems-body").render()
        text = str(body)
        assert "issues/0507-bad-front-matter.md" in text
        assert "front matter: 'depends_on' must be a list of issue numbers" in text
        assert "#506 references #999, which no source knows" in text
        await pilot.press("escape")
        await pilot.pause()
        assert engine.submitted == []


async def test_w_is_greyed_without_problems() -> None:
    async with started("empty") as (app, engine, pilot):
        assert app.check_action("problems", ()) is None
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, ProblemsScreen)


# The keys from an issue to its work: o (pull request), s (shell), D (diff), R (results)

async def _shown_text(app: object, selector: str) -> str:
    from textual.widgets import Static

    widget = app.screen.query_one(selector, Static)  # type: ignore[attr-defined]
    return str(widget.render())


async def test_o_opens_the_pull_request_with_the_browser_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    async with started() as (app, engine, pilot):
        await select(pilot, key(440))
        await pilot.press("o")
        await until(opened.exists)
        await until(lambda: opened.read_text() != "")
        assert opened.read_text() == "https://github.com/acme/widgets/pull/501"
        assert "PR #501 of #440 opened in the browser: https://github.com/acme/widgets/pull/501" in notifications(app)


async def test_o_without_a_browser_shows_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER", "/nonexistent/browser")
    async with started() as (app, engine, pilot):
        await select(pilot, key(440))
        await pilot.press("o")
        await pilot.pause()
        assert any(n.startswith("No browser to open it with") and n.endswith("https://github.com/acme/widgets/pull/501") for n in notifications(app))


async def test_o_is_greyed_for_an_issue_without_a_pull_request() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(441))
        assert app.check_action("open_pull_request", ()) is None
        await pilot.press("o")
        await pilot.pause()
        assert not any("pull request" in n.lower() or "PR #" in n for n in notifications(app))


async def test_s_for_an_ssh_session_gives_the_command_to_type() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(443))
        await pilot.press("s")
        await pilot.pause()
        command = "ssh -t ci@mini-1.lan 'cd .worktrees/issue-443 && exec \"${SHELL:-/bin/sh}\" -l'"
        assert f"#443's worktree is on mini-1. Open a shell there with:\n{command}" in notifications(app)


async def test_s_for_a_local_worktree_hands_over_or_says_where_it_is(tmp_path: Path) -> None:
    worktree = tmp_path / "issue-470"
    worktree.mkdir()
    started_events = run_events(470, "local", 60, Progress("implementing", 1, 3, 4, 0.1, "Edit a.py", 0.0), executor="local")
    first = started_events[0]
    assert isinstance(first, ev.SessionStarted)
    started_events[0] = replace(first, session=replace(first.session, worktree=str(worktree)))
    events = [*mid_run_events(), *seen(issue(470, "Local work")), *started_events]
    async with started(Scenario("local_shell", events)) as (app, engine, pilot):
        await select(pilot, key(470))
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        # The test terminal cannot be handed over; a real one runs $SHELL there (tests/ui/test_worktree_shell.py).
        assert f"This terminal cannot hand over to a shell. Open one yourself:\ncd {worktree}" in notifications(app)
        await select(pilot, key(444))
        await pilot.press("s")
        await pilot.pause()
        assert "#444's worktree .worktrees/issue-444 is gone." in notifications(app)


async def test_D_pages_through_the_diff_file_by_file() -> None:
    from waterspider_tui.ui.screens.diff_pager import DiffScreen
    from waterspider_tui.ui.widgets.pager_log import PagerLog

    async with started() as (app, engine, pilot):
        await select(pilot, key(440))
        await pilot.press("D")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert "line 1 of 29 · 2 files changed" in await _shown_text(app, "#diff-position")
        await pilot.press("n")
        log = app.screen.query_one(PagerLog)
        assert log.current_line == 4
        await pilot.press("n")
        assert log.current_line == 15
        await pilot.press("n")
        assert log.current_line == 4, "wraps around to the first file"
        await pilot.press("N")
        assert log.current_line == 15
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DiffScreen)


async def test_D_says_why_a_diff_cannot_be_read() -> None:
    from waterspider_tui.ui.screens.diff_pager import DiffScreen
    from waterspider_tui.ui.widgets.pager_log import PagerLog

    async with started() as (app, engine, pilot):
        await select(pilot, key(441))
        await pilot.press("D")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert "the diff cannot be read" in await _shown_text(app, "#diff-position")
        assert "bad revision" in "\n".join(app.screen.query_one(PagerLog).lines)


async def test_D_is_greyed_for_an_issue_that_never_ran() -> None:
    async with started() as (app, engine, pilot):
        await select(pilot, key(448))
        assert app.check_action("open_diff", ()) is None
        assert app.check_action("open_shell", ()) is None


async def test_R_shows_the_results_the_report_adds_up() -> None:
    from waterspider_tui.reporting.results import collect
    from waterspider_tui.ui.screens.summary import SummaryScreen

    async with started() as (app, engine, pilot):
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        totals = collect(engine.events).figures()["totals"]
        assert app.screen.figures is not None and app.screen.figures["totals"] == totals
        shown = await _shown_text(app, "#summary-totals")
        assert shown.startswith(f"{totals['issues']} issues: ✔ {totals['succeeded']} succeeded  ✘ {totals['failed']} failed")
        failures = app.screen.query_one("#summary-failures")
        assert failures is not None
        await pilot.press("R")
        await pilot.pause()
        assert not isinstance(app.screen, SummaryScreen)


async def test_help_and_key_bar_list_the_work_keys() -> None:
    async with started(size=(200, 40)) as (app, engine, pilot):
        await select(pilot, key(440))
        descriptions = {row[1] for row in app.help_rows()}
        assert {"open PR", "shell", "diff", "results"} <= descriptions
        from waterspider_tui.ui.widgets.key_bar import KeyBar

        bar = app.screen.query_one(KeyBar).render().plain
        assert "o open PR" in bar and "s shell" in bar and "D diff" in bar and "R results" in bar


async def test_the_palette_offers_the_work_keys_by_name() -> None:
    from waterspider_tui.ui.commands import palette_entries
    from waterspider_tui.ui.screens.diff_pager import DiffScreen

    async with started() as (app, engine, pilot):
        entries = {text: callback for text, _, callback in palette_entries(app)}
        assert {"show results", "diff #440", "shell in #443", "open pull request #440"} <= set(entries)
        assert "open pull request #441" not in entries and "diff #448" not in entries
        entries["shell in #443"]()
        await pilot.pause()
        assert any(n.startswith("#443's worktree is on mini-1.") for n in notifications(app))
        entries["diff #440"]()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen) and app.screen.issue_key == key(440)
