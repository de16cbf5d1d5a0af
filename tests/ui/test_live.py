"""Live behaviour: rows updated in place, logs streamed in batches, bursts coalesced, failures shown."""

from __future__ import annotations

import asyncio
import time

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, Progress
from waterspider_tui.ui.app import WaterspiderApp
from waterspider_tui.ui.messages import SnapshotReady
from waterspider_tui.ui.widgets.agent_log import AgentLog, EventLog
from waterspider_tui.ui.widgets.status_bar import StatusBar

from . import scenarios
from .pilots import notifications, select, settle, started, table
from .scenarios import NOW, key


def _progress(turns: int, cost: float, activity: str) -> Progress:
    return Progress("implementing", 2, 5, turns, cost, activity, NOW - 1)


async def test_a_new_snapshot_updates_only_the_changed_cells_and_keeps_the_cursor() -> None:
    async with started() as (app, engine, pilot):
        running = table(app, "running")
        await select(pilot, key(445))
        cursor_before = running.cursor_row
        cells_before = {column: running.get_cell(key(444), column) for column in ("title", "phase", "cost")}
        engine.push(ev.SessionProgressed(ts=NOW, issue=key(445), session_id="s-445-1", progress=_progress(9, 0.2, "Read README.md")))
        await pilot.pause()
        assert running.get_cell(key(445), "cost").plain == "$0.20"
        assert running.get_cell(key(445), "turns").plain == "9"
        for column, cell in cells_before.items():
            assert running.get_cell(key(444), column) is cell, "an unchanged row was rewritten"
        assert running.cursor_row == cursor_before and running.selected_key == key(445)


async def test_only_changed_rows_and_the_cursor_rows_are_rendered_again() -> None:
    async with started() as (app, engine, pilot):
        running = table(app, "running")
        assert app.focused is running

        def screen_lines() -> list[str]:
            return [running.render_line(y).text for y in range(running.size.height)]

        rendered_rows: list[int] = []
        render_cell = running._render_cell

        def counting_render_cell(row_index: int, column_index: int, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            rendered_rows.append(row_index)
            return render_cell(row_index, column_index, *args, **kwargs)

        running._render_cell = counting_render_cell  # type: ignore[method-assign]
        before = screen_lines()
        rendered_rows.clear()
        engine.push(ev.SessionProgressed(ts=NOW, issue=key(445), session_id="s-445-1", progress=_progress(9, 0.2, "Read README.md")))
        await pilot.pause()
        after = screen_lines()
        row = running.get_row_index(key(445))
        assert set(rendered_rows) == {row}
        assert [y for y, (old, new) in enumerate(zip(before, after)) if old != new] == [row + running.header_height]
        assert "$0.20" in after[row + running.header_height] and "$0.20" not in before[row + running.header_height]

        top = running.cursor_row
        rendered_rows.clear()
        await pilot.press("down")
        moved = screen_lines()
        assert running.cursor_row == top + 1
        assert set(rendered_rows) == {top, top + 1}, "a cursor step renders just the rows it leaves and enters"
        assert moved == after, "a cursor step changes colours, not text"
        highlighted = running.get_component_styles("datatable--cursor").rich_style.bgcolor
        cursor_line = running.render_line(top + 1 + running.header_height)
        assert any(segment.style and segment.style.bgcolor == highlighted for segment in cursor_line)


async def test_a_finished_session_moves_from_running_to_finished() -> None:
    async with started() as (app, engine, pilot):
        result = ev.SessionFinished(ts=NOW, issue=key(444), session_id="s-444-1", result=scenarios.SessionResult(
            outcome=Outcome.SUCCEEDED, summary="Done. https://github.com/acme/widgets/pull/512", cost_usd=0.6, duration_s=480))
        engine.push(result)
        await pilot.pause()
        assert key(444) not in table(app, "running").keys
        finished = table(app, "finished")
        assert finished.keys[0] == key(444)
        assert finished.get_cell(key(444), "pr").plain == "PR #512"
        assert "#444 succeeded after 8m, $0.60" in app.screen.query_one(EventLog).lines[-1]


async def test_the_ready_queue_reorders_in_place_when_scores_change() -> None:
    async with started() as (app, engine, pilot):
        ready = table(app, "ready")
        assert ready.keys[0] == key(452)
        engine.push(ev.IssuePinned(ts=NOW, issue=key(453), pinned=True, by="operator"),
                    ev.IssuePinned(ts=NOW, issue=key(452), pinned=False, by="operator"))
        await pilot.pause()
        assert ready.keys[0] == key(453)
        assert [row.key.value for row in ready.ordered_rows] == ready.keys
        assert ready.get_cell(key(453), "rank").plain == "1"


async def test_a_burst_of_snapshots_is_coalesced() -> None:
    async with started() as (app, engine, pilot):
        rendered: list[object] = []
        original = app.screen.render_view  # type: ignore[attr-defined]

        def counting(view: object, palette: object) -> None:
            rendered.append(view)
            original(view, palette)

        app.screen.render_view = counting  # type: ignore[attr-defined]
        for turn in range(50):
            engine.push(ev.SessionProgressed(ts=NOW, issue=key(443), session_id="s-443-1", progress=_progress(turn, 0.01 * turn, "Bash make")))
        await pilot.pause()
        assert 1 <= len(rendered) < 10
        assert table(app, "running").get_cell(key(443), "turns").plain == "49"
        message = SnapshotReady(engine.snapshot)
        assert message.can_replace(SnapshotReady(engine.snapshot))


async def test_the_log_follows_the_selected_session_and_streams_in_batches() -> None:
    async with started() as (app, engine, pilot):
        log = app.screen.query_one(AgentLog)
        assert log.issue_key == key(443)
        assert log.lines[0].startswith("· session s-443-1 started")
        assert "✘ API Error: 529 overloaded, retrying in 2s" in log.lines
        engine.push_logs(key(443), [LogEntry("tool", "Bash ruff check src"), LogEntry("tool", "→ All checks passed!")])
        engine.push_logs(key(444), [LogEntry("text", "not for this panel")])
        await pilot.pause()
        assert log.lines[-2:] == ["● Bash ruff check src", "  → All checks passed!"]
        assert "  not for this panel" not in log.lines
        await select(pilot, key(444))
        assert log.issue_key == key(444)
        assert log.lines == ["  not for this panel"]
        await select(pilot, key(450))
        assert log.issue_key == key(444), "an issue without a session keeps the last log"


async def test_the_log_is_bounded() -> None:
    async with started() as (app, engine, pilot):
        log = app.screen.query_one(AgentLog)
        engine.push_logs(key(443), [LogEntry("text", f"line {n}") for n in range(6000)])
        await pilot.pause()
        assert log.line_count <= log.max_lines == 5000
        assert log.lines[-1] == "  line 5999"


async def test_the_engine_worker_failing_is_shown_and_sets_the_exit_code() -> None:
    async def broken_engine() -> None:
        raise RuntimeError("event log is corrupt")

    async with started(run_engine=broken_engine) as (app, engine, pilot):
        await pilot.pause()
        await pilot.pause()
        assert "RuntimeError: event log is corrupt" in notifications(app)
        assert "engine stopped: RuntimeError: event log is corrupt" in app.screen.query_one(StatusBar).render().plain
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("l")
        await settle(pilot)
    assert app.return_code == 1


async def test_the_engine_runs_as_a_worker_until_quit() -> None:
    started_running = asyncio.Event()

    async def run_engine() -> None:
        started_running.set()
        await asyncio.sleep(3600)

    async with started("empty", run_engine=run_engine) as (app, engine, pilot):
        await asyncio.wait_for(started_running.wait(), 2)
        assert [worker.group for worker in app.workers if worker.is_running].count("engine") == 1
        await pilot.press("q")
        await settle(pilot)
    assert engine.stopped == [True]
    assert app.return_code == 0


async def test_elapsed_times_follow_the_clock_without_new_snapshots() -> None:
    now = [NOW]
    engine = scenarios.mid_run().engine()
    app = WaterspiderApp(engine, clock=lambda: now[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert table(app, "running").get_cell(key(443), "elapsed").plain == "12m"
        now[0] = NOW + 180
        app.refresh_view()
        await pilot.pause()
        assert table(app, "running").get_cell(key(443), "elapsed").plain == "15m"


async def test_two_hundred_streaming_sessions_stay_responsive() -> None:
    """200 running sessions all progressing and logging at once: each burst renders in time.

    Measured in CPU time of this process, so other jobs on a shared machine do not count; what
    the bound catches is work that grows with the square of the rows (seconds per burst).
    """
    async with started(scenarios.large(running=200, queued=100), size=(200, 60)) as (app, engine, pilot):
        assert len(table(app, "running").keys) == 200
        rounds = 5
        started_at = time.process_time()
        for round_number in range(rounds):
            engine.push(*(
                ev.SessionProgressed(ts=NOW, issue=key(1000 + n), session_id=f"s-{1000 + n}-1",
                                     progress=_progress(round_number, 0.01 * round_number, f"step {round_number}"))
                for n in range(200)
            ))
            for n in range(200):
                engine.push_logs(key(1000 + n), [LogEntry("text", f"round {round_number} of {n}")])
            await pilot.pause()
        per_burst = (time.process_time() - started_at) / rounds
        assert table(app, "running").get_cell(key(1199), "activity").plain == f"step {rounds - 1}"
        assert app.screen.query_one(AgentLog).lines[-1] == f"  round {rounds - 1} of 0"
        assert per_burst < 1.5, f"a burst of 200 sessions took {per_burst:.2f}s of CPU to render"


async def test_snapshots_wait_for_the_rebuild_cap_but_commands_and_ticks_do_not() -> None:
    async with started() as (app, engine, pilot):
        app.snapshot_interval_s = 3600.0  # the cap, made long enough that no test run outlasts it
        app.tick_timer.pause()  # the 1 s tick is called by hand below: on a loaded machine it could fire between two steps
        app.refresh_view()
        engine.push(ev.SessionProgressed(ts=NOW, issue=key(445), session_id="s-445-1", progress=_progress(9, 0.2, "Read README.md")))
        await pilot.pause()
        running = table(app, "running")
        assert running.get_cell(key(445), "turns").plain != "9", "a snapshot inside the cap was rendered at once"
        await pilot.press("p")
        await settle(pilot)
        assert engine.snapshot.dispatcher_paused
        assert "paused" in app.screen.query_one(StatusBar).render().plain
        assert running.get_cell(key(445), "turns").plain == "9", "the command's rebuild shows every snapshot so far"
        engine.push(ev.SessionProgressed(ts=NOW, issue=key(445), session_id="s-445-1", progress=_progress(10, 0.3, "Read setup.py")))
        await pilot.pause()
        assert running.get_cell(key(445), "turns").plain == "9"
        app.refresh_view()  # the 1 s tick
        await pilot.pause()
        assert running.get_cell(key(445), "turns").plain == "10"


async def test_log_lines_scroll_the_log_and_size_its_scrollbar() -> None:
    async with started() as (app, engine, pilot):
        log = app.screen.query_one(AgentLog)
        engine.push_logs(key(443), [LogEntry("text", f"line {n}") for n in range(300)])
        await pilot.pause()
        assert log.virtual_size.height == log.line_count
        assert log.vertical_scrollbar.window_virtual_size == log.line_count
        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y
        engine.push_logs(key(444), [LogEntry("text", "another session")])
        await select(pilot, key(444))
        assert log.virtual_size.height == log.line_count == 1
        assert log.vertical_scrollbar.window_virtual_size == 1 and log.scroll_y == 0
