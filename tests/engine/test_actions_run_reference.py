"""The run a session is, recorded once: folded into the session, kept through the log, shown in the detail view."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tests.core.core_builders import T0, issue, key, snapshot, started
from waterspider_tui.core import events as ev
from waterspider_tui.core.scheduler import plan
from waterspider_tui.engine import open_store
from waterspider_tui.text.event_text import describe
from waterspider_tui.ui.detail import detail_renderable
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View

URL = "https://github.com/o/r/actions/runs/20000000001"


def spawned(*, reattached: bool = False, run_id: str = "20000000001") -> ev.SessionSpawned:
    return ev.SessionSpawned(ts=T0 + 1, issue=key(7), session_id="s-7-1", pid=None, reattached=reattached,
                             external_id=run_id, external_url=URL if run_id else "")


def test_the_run_recorded_at_dispatch_is_the_sessions_and_a_later_spawn_without_one_keeps_it() -> None:
    state = snapshot(issue(7), events=[started(7), spawned()])
    session = state.tasks[key(7)].session
    assert session is not None and (session.external_id, session.external_url, session.spawned) == ("20000000001", URL, True)
    again = snapshot(issue(7), events=[started(7), spawned(), spawned(reattached=True, run_id="")])
    kept = again.tasks[key(7)].session
    assert kept is not None and kept.external_id == "20000000001" and kept.external_url == URL


def test_the_run_survives_the_log(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.db")
    try:
        store.record(tuple(snapshot_events()))
    finally:
        store.log.close()
    reopened = open_store(tmp_path / "state.db")
    try:
        session = reopened.snapshot.tasks[key(7)].session
        assert session is not None and session.external_id == "20000000001" and session.external_url == URL
    finally:
        reopened.log.close()


def snapshot_events() -> list[ev.Event]:
    return [ev.IssueSeen(ts=T0, issue_data=issue(7)), started(7), spawned()]


def test_the_detail_and_the_event_log_show_the_runs_address() -> None:
    state = snapshot(issue(7), events=[started(7), spawned()])
    view = View.build(state, plan(state, T0 + 2), T0 + 2, 4, "test")
    console = Console(width=120, record=True, color_system=None)
    console.print(detail_renderable(view, key(7), Palette.plain()))
    shown = console.export_text()
    assert any(line.split() == ["run", URL] for line in shown.splitlines())
    assert describe(spawned()) == f"#7 is run 20000000001: {URL}"
    assert describe(spawned(reattached=True)) == f"#7 found run 20000000001 again: {URL}"
