"""Pure helpers: formats, queue rows, the header line, the DAG text and the detail (no App)."""

from __future__ import annotations

from rich.console import Console

from waterspider_tui.adapters.agents.base import LogEntry
from waterspider_tui.core import events as ev
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui import rows
from waterspider_tui.ui.detail import detail_renderable
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.screens.dag import dag_model
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.dag_view import render_dag
from waterspider_tui.ui.widgets.status_bar import status_text

from . import scenarios
from .scenarios import NOW, key

PLAIN = Palette.plain()


def view_of(scenario: scenarios.Scenario) -> View:
    engine = scenario.engine()
    return View.build(engine.snapshot, engine.plan(), NOW, engine.capacity, engine.title)


def plain_rows(built: list[rows.Row]) -> dict[str, list[str]]:
    return {row_key: [cell.plain for cell in cells] for row_key, cells in built}


def test_durations_and_money() -> None:
    assert [fmt.duration(value) for value in (None, 5, 125, 3900, 90000)] == ["–", "5s", "2m", "1h05m", "1d01h"]
    assert fmt.money(1234.5) == "$1,234.50"
    assert fmt.truncate("a  long\\ntitle here", 9) == "a long\\n…"
    assert fmt.pr_link("see https://github.com/acme/widgets/pull/501 now") == ("PR #501", "https://github.com/acme/widgets/pull/501")
    assert fmt.pr_link("no link") == ("", "")


def test_log_entries_become_one_short_line_each_kind() -> None:
    lines = fmt.log_lines([
        LogEntry("tool", "Bash pytest -q\nsecond line"),
        LogEntry("tool", "→ 14 passed"),
        LogEntry("tool", "↳ Read a.py"),
        LogEntry("error", "→ error: exit 1"),
        LogEntry("text", "first\n\nsecond"),
        LogEntry("system", "started"),
        LogEntry("result", "succeeded (13 turns, 6.0s, $0.16): done"),
    ])
    assert lines == [
        "● Bash pytest -q  (+1 lines)", "  → 14 passed", "  ↳ Read a.py", "✘ → error: exit 1",
        "  first", "  second", "· started", "◆ succeeded (13 turns, 6.0s, $0.16): done",
    ]


def test_event_lines_name_the_issue_and_what_happened() -> None:
    event = ev.PriorityBumped(ts=NOW, issue=key(453), delta=-1, by="operator")
    assert fmt.event_line(event, "#453") == "14:00:00 #453 bumped -1 by operator"
    assert fmt.event_line(ev.DispatcherResumed(ts=NOW, by="operator"), "") == "14:00:00 dispatch resumed by operator"
    started = ev.StepStarted(ts=NOW, issue=key(453), session_id="s-453-1", step="commits")
    assert fmt.event_line(started, "#453") is None, "what --no-ui leaves out, the panel leaves out"


def test_ready_rows_in_dispatch_order_with_marks() -> None:
    view = view_of(scenarios.mid_run())
    ready = plain_rows(rows.ready_rows(view, PLAIN))
    # pinned; the long pole (a P0 too); bumped up; the other long pole (240m); then by score
    assert list(ready) == [key(452), key(448), key(456), key(454), key(450), key(453)]
    assert ready[key(454)][-1] == "critical path"
    assert ready[key(452)][-1] == "pinned"
    assert ready[key(448)][-1] == "critical path P0 first"
    assert ready[key(456)][-1] == "bump +1"
    assert ready[key(448)][:4] == ["2", "#448", "Payment webhook retries", "P0"]


def test_blocked_rows_say_why() -> None:
    view = view_of(scenarios.mid_run())
    reasons = {row_key: cells[2] for row_key, cells in plain_rows(rows.blocked_rows(view, PLAIN)).items()}
    assert reasons == {
        key(455): "waits on #447 (running), #448 (ready)",
        key(457): "waits on #441 (failed)",
        key(460): "cycle #460 → #461 → #460",
        key(461): "cycle #460 → #461 → #460",
        key(462): "paused by operator",
        key(463): "held: label added by an untrusted account",
        key(464): "retry in 4m (after rate_limited)",
        key(470): "waits on #455 (waiting)",
    }


def test_running_and_finished_rows() -> None:
    view = view_of(scenarios.mid_run())
    running = plain_rows(rows.running_rows(view, PLAIN))
    assert running[key(443)] == ["#443", "Fix login crash on empt…", "mini-1", "▶ implementing 3/5", "12m", "$0.84", "23", "Edit src/auth/login.py (+12 −3)"]
    assert running[key(446)][-1] == "idle 7m · Bash alembic upgrade head"
    finished = plain_rows(rows.finished_rows(view, PLAIN))
    assert list(finished) == [key(440), key(442), key(441)]
    assert finished[key(440)][3:] == ["2 commits, 4 files", "18m", "$1.10", "PR #501"]
    assert finished[key(441)][0] == "✘" and finished[key(441)][3] == "max_turns, 2 tries"
    assert finished[key(442)][3] == "cancelled"


def test_rows_are_reused_while_their_inputs_are_equal() -> None:
    view = view_of(scenarios.mid_run())
    cache = rows.RowCache()
    first = dict(rows.ready_rows(view, PLAIN, cache=cache))
    again = dict(rows.ready_rows(view_of(scenarios.mid_run()), PLAIN, cache=cache))
    assert all(again[row_key] is cells for row_key, cells in first.items())


def test_the_filter_matches_number_title_and_label() -> None:
    view = view_of(scenarios.mid_run())
    assert [row_key for row_key, _ in rows.ready_rows(view, PLAIN, "WEBHOOK")] == [key(448)]
    assert [row_key for row_key, _ in rows.ready_rows(view, PLAIN, "#450")] == [key(450)]
    assert [row_key for row_key, _ in rows.ready_rows(view, PLAIN, "p0")] == [key(448)]


def test_the_header_shortens_to_fit() -> None:
    view = view_of(scenarios.mid_run())
    wide = status_text(view, PLAIN, 200).plain
    assert wide.startswith(" waterspider  acme/widgets  ● dispatching  running 5/5  ready 6  blocked 8")
    assert "$5.92 today" in wide and "API 4 812/5 000" in wide and "next poll 7s" in wide and "⚠ 1 warning" in wide
    narrow = status_text(view, PLAIN, 80).plain
    assert narrow == " waterspider ● 5/5 run  6 ready  8 blk  1 fail  $5.92  API 96%  ⚠1"
    failing = status_text(view_of(scenarios.failure()), PLAIN, 200).plain
    assert "‖ usage_limit: waiting fo… until 14:50" in failing and "✘ 1 rejected" in failing
    assert "limited until 14:25" in failing


def test_the_dag_text_shows_layers_critical_path_and_cycles() -> None:
    view = view_of(scenarios.cycle())
    picture = render_dag(dag_model(view, key(601)), PLAIN, key(601), width=160)
    text = picture.text.plain
    assert "depth 0" in text and "depth 3" in text
    assert "★ critical path: #601 → #603 → #604 → #630" in text
    assert "↻ #610 → #611 → #610" in text and "↻ #620 → #621 → #622 → #620" in text
    assert picture.columns[0] == (key(601),)
    assert "← #604 #610" in text


def test_a_large_graph_is_focused_on_the_selected_issue() -> None:
    model = dag_model(view_of(scenarios.mid_run()), key(455), max_nodes=5)
    shown = {node for layer in model.layout.layers for node in layer}
    assert shown == {key(447), key(448), key(455), key(470)}
    assert model.note.startswith("4 of 19 open issues: #455's dependencies and dependents")


def test_the_detail_explains_the_score_and_lists_attempts() -> None:
    console = Console(width=100, record=True, color_system=None)
    view = view_of(scenarios.mid_run())
    console.print(detail_renderable(view, key(448), PLAIN))
    ready = console.export_text()
    assert "Score 0.89 · #2 in dispatch order" in ready
    assert "label" in ready and "0.5 × 1.00 = 0.50" in ready and "on the critical path" in ready
    assert "Needed by" in ready and "#455" in ready
    console.print(detail_renderable(view, key(441), PLAIN))
    failed = console.export_text()
    assert "Attempts (2)" in failed
    assert "1  failed  max_turns  22m  $0.92  mini-2" in failed
    assert "reached max turns (40)" in failed
    assert ".waterspider/sessions/issue-441/attempt-2.jsonl" in failed
    assert "feature/issue-441" in failed
