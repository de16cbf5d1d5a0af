"""The queue tables' columns fit their panels at 80x24, 120x35 and 200x60: the flexible columns
(title, why, last activity, ...) are cut with '…', then the least important columns are left out,
so no column is cut at the panel's edge ("Tur", "#4 (")."""

from __future__ import annotations

from waterspider_tui.ui.widgets.queue_table import FittedColumn, fitted_caps

from .pilots import screen_lines, started, table

PANELS = ("running", "ready", "blocked", "finished")


def test_caps_cut_the_flexible_columns_before_leaving_any_out() -> None:
    widths = [("issue", 5), ("title", 24), ("host", 6), ("turns", 5)]
    assert fitted_caps(widths, 60, 1) == {}
    assert fitted_caps(widths, 44, 1) == {"title": 20}
    assert fitted_caps(widths, 30, 1) == {"turns": 0, "title": 13}
    assert fitted_caps(widths, 25, 1) == {"turns": 0, "host": 0, "title": 16}
    assert fitted_caps(widths, 5, 1) == {"turns": 0, "host": 0, "title": 12}  # the issue and its title always stay


async def test_every_table_fits_its_panel_at_each_size() -> None:
    async with started("mid_run", size=(200, 60)) as (app, engine, pilot):
        for size in ((200, 60), (120, 35), (80, 24)):
            if size != app.size:
                await pilot.resize_terminal(*size)
                await pilot.pause()
            lines = screen_lines(app)
            shown = [panel for panel in PANELS if table(app, panel).region.width]
            assert shown, size
            for panel in shown:
                queue = table(app, panel)
                columns = queue.ordered_columns
                assert all(isinstance(column, FittedColumn) for column in columns)
                used = sum(column.get_render_width(queue) for column in columns)
                assert used <= queue.scrollable_content_region.width, (size, panel, used)
                kept = [column.label.plain for column in columns if column.get_render_width(queue)]
                assert "Issue" in kept and "Title" in kept, (size, panel)
                header = lines[queue.region.y]
                for label in filter(None, kept):
                    assert label in header, (size, panel, label, header)
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert "Turns" in screen_lines(app)[table(app, "running").region.y]  # left out only while there is no room
