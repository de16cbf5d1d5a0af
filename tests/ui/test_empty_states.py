"""Empty panels at 80x24 and 120x35: each says why it is empty in one muted line at its top, and nothing else (no orphan column headers)."""

from __future__ import annotations

import pytest

from waterspider_tui.ui.widgets.panel import PANELS, Panel
from waterspider_tui.ui.widgets.queue_table import QueueTable

from .pilots import screen_lines, started

NOTES = {
    "running": "Nothing running.",
    "ready": "No issues yet: waiting for the first poll of",
    "blocked": "Nothing blocked.",
    "finished": "Nothing finished yet.",
    "hosts": "No hosts yet.",
    "log": "Select an issue that has run to read its agent's log",
    "events": "No events yet.",
}
HEADERS = ("Issue", "Title", "Score", "Phase", "Why", "Result")


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
async def test_every_empty_panel_shows_its_note_alone(size: tuple[int, int]) -> None:
    async with started("empty", size=size) as (app, engine, pilot):
        for panel_id, key, _ in PANELS:
            await pilot.press(key)
            await pilot.pause()
            panel = app.screen.query_one(f"#{panel_id}", Panel)
            assert panel.has_class("-empty"), panel_id
            assert panel.note.region.height >= 1, f"{panel_id}: the note is drawn"
            note_top = panel.note.region.y
            lines = screen_lines(app)
            assert NOTES[panel_id] in " ".join(lines[note_top : note_top + 2]), (panel_id, lines[note_top])
            inside = panel.content_region
            below_note = [line[inside.x : inside.right] for line in lines[panel.note.region.bottom : inside.bottom]]
            assert not any(word in line for line in below_note for word in HEADERS), f"{panel_id} shows column headers under its note: {below_note[:2]}"
            for table in panel.query(QueueTable):
                assert not table.show_header


async def test_a_table_gets_its_headers_back_with_its_first_row() -> None:
    from .scenarios import issue, seen

    async with started("empty", size=(80, 24)) as (app, engine, pilot):
        await pilot.press("2")
        table = app.screen.query_one("#ready-table", QueueTable)
        assert not table.show_header
        engine.push(*seen(issue(501, "First issue", "P1")))
        await pilot.pause()
        await pilot.pause()
        assert table.show_header and table.keys == ["acme/widgets#501"]
        assert not app.screen.query_one("#ready", Panel).has_class("-empty")
        assert any("Issue" in line and "Title" in line for line in screen_lines(app))


async def test_the_results_before_any_session_say_none_under_every_heading_the_same_way() -> None:
    async with started("empty", size=(80, 24)) as (app, engine, pilot):
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await pilot.pause()
        lines = screen_lines(app)
        for heading, empty in (("Failures", "  none"), ("Slowest", "  none yet"), ("Most expensive", "  none yet"), ("By host", "  none yet")):
            index = next(number for number, line in enumerate(lines) if line.strip() == heading)
            assert lines[index + 1].rstrip() == empty, f"under {heading}: {lines[index + 1]!r}"
