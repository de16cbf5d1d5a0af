"""A DataTable keyed by issue that is updated in place: changed cells only, rows moved by sort."""

from __future__ import annotations

from itertools import count
from typing import Any, Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import Column, ColumnKey, RowDoesNotExist, RowKey

Row = tuple[str, tuple[Text, ...]]
RowLines = tuple[list[list[Segment]], list[list[Segment]]]
"""A rendered line of a row: the fixed cells' segments and the scrollable cells' segments."""


DROP_ORDER = ("turns", "activity", "cost", "took", "pr", "score", "elapsed", "host", "level", "marks", "result", "phase")
"""Columns left out first when a table is wider than its panel, by key (least important first); the
issue and its title always stay."""
SHRINK_TO = {"title": 12, "reason": 20, "activity": 16, "phase": 12, "result": 12, "marks": 8}
"""Columns cut short (ending in '…') before any is left out, and the width each keeps at least."""


class FittedColumn(Column):
    """A column the table may cut to `cap` cells of content, or leave out (`cap` 0)."""

    cap: int | None = None

    def get_render_width(self, data_table: DataTable[Any]) -> int:
        natural = self.content_width if self.auto_width else self.width
        if self.cap is None:
            return 2 * data_table.cell_padding + natural
        if self.cap == 0:
            return 0
        return 2 * data_table.cell_padding + min(natural, self.cap)


def fitted_caps(widths: Sequence[tuple[str, int]], available: int, padding: int) -> dict[str, int]:
    """Content width caps so the columns (key, natural content width) fit `available` cells: the
    flexible ones (`SHRINK_TO`) cut first, widest first, then columns left out by `DROP_ORDER`."""
    dropped: list[str] = []
    droppable = [key for key in DROP_ORDER if key in dict(widths)]
    while True:
        shown = [(key, width) for key, width in widths if key not in dropped]
        excess = sum(width + 2 * padding for _, width in shown) - available
        caps = {key: 0 for key in dropped}
        flexible = sorted(((width - SHRINK_TO[key], key, width) for key, width in shown if key in SHRINK_TO and width > SHRINK_TO[key]), reverse=True)
        if excess <= sum(room for room, _, _ in flexible) or not droppable:
            for room, key, width in flexible:
                if excess <= 0:
                    break
                cut = min(room, excess)
                caps[key] = width - cut
                excess -= cut
            return caps
        dropped.append(droppable.pop(0))


def text_signature(cell: Text) -> tuple[object, ...]:
    """What makes a cell look different; Text equality ignores the base style."""
    return (cell.plain, str(cell.style), tuple((span.start, span.end, str(span.style)) for span in cell.spans))


class QueueTable(DataTable[Text], inherit_bindings=False):
    """One queue as a table of issues; `sync` makes it show exactly the given rows, in order.

    Why keyed: rebuilding with `clear()` on every snapshot flickers and loses the cursor.
    Enter is left to the app's detail binding, so it is not bound here.
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_top", "Top", show=False),
        Binding("end", "scroll_bottom", "Bottom", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        id: str | None = None,
        on_cursor: Callable[[str], None] | None = None,
        fixed_columns: int = 0,
    ) -> None:
        """`on_cursor` hears of the issue under the cursor as soon as the focused table's cursor moves;
        the first `fixed_columns` (the issue number) stay in place when the table scrolls sideways.

        Why not only `RowHighlighted`: a message is handled after the frame that shows the cursor
        step, so what follows the selection (the log panel) would need a frame of its own, one
        screen update period or more later.
        """
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, fixed_columns=fixed_columns)
        self._on_cursor = on_cursor
        self._column_spec = tuple(columns)
        self._signatures: dict[str, tuple[tuple[object, ...], ...]] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._order: list[str] = []
        self._versions: dict[str, int] = {}
        """Bumped whenever a row's cells change: the key its rendered lines are cached under."""
        self._next_version = count()
        for label, key in self._column_spec:
            column_key = self.add_column(label, key=key)
            column = self.columns[column_key]
            self.columns[column_key] = FittedColumn(column.key, column.label, column.width, column.content_width, column.auto_width)
        self._caps: dict[str, int] = {}

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        """Cut or leave out columns by priority so the table is no wider than its panel."""
        available = self.scrollable_content_region.width
        if available <= 0:
            return
        widths = [(column.key.value or "", column.content_width) for column in self.ordered_columns]
        caps = fitted_caps(widths, available, self.cell_padding)
        if caps == self._caps:
            return
        self._caps = caps
        for column in self.ordered_columns:
            assert isinstance(column, FittedColumn)
            column.cap = caps.get(column.key.value or "")
        self._clear_caches()
        self._require_update_dimensions = True
        self.refresh()

    @property
    def selected_key(self) -> str | None:
        """The issue under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None

    @property
    def keys(self) -> list[str]:
        """The issue keys shown, in display order."""
        return list(self._order)

    def sync(self, rows: Sequence[Row]) -> None:
        """Show exactly `rows` in this order, touching only what changed.

        A row whose cells are the very objects shown last time is skipped outright (the row
        builders cache them); widths only grow, so updating a cell never re-measures a column.
        """
        selected = self.selected_key
        # An empty table shows no column headers: the panel's note says why it is empty, alone.
        if self.show_header != bool(rows):
            self.show_header = bool(rows)
        wanted = {key for key, _ in rows}
        column_keys = [key for _, key in self._column_spec]
        changed_order = False
        for key in [key for key in self._signatures if key not in wanted]:
            self.remove_row(key)
            del self._signatures[key]
            del self._cells[key]
            del self._versions[key]
            changed_order = True
        for key, cells in rows:
            if self._cells.get(key) is cells:
                continue
            for cell in cells:
                cell.overflow = "ellipsis"  # a cell cut to its column's width says so
            signatures = tuple(text_signature(cell) for cell in cells)
            old = self._signatures.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                self._versions[key] = next(self._next_version)
                changed_order = True
            elif old != signatures:
                self._versions[key] = next(self._next_version)
                for column_key, cell, before, after in zip(column_keys, cells, old, signatures):
                    if before != after:
                        wider = cell.cell_len > self.columns[ColumnKey(column_key)].content_width
                        self.update_cell(key, column_key, cell, update_width=wider)
            self._signatures[key] = signatures
            self._cells[key] = cells
        order = [key for key, _ in rows]
        if changed_order or order != self._order:
            if order != [row.key.value for row in self.ordered_rows]:
                position = {key: index for index, key in enumerate(order)}
                first = column_keys[0]
                cell_position = {id(self.get_cell(key, first)): position[key] for key in order}
                self.sort(first, key=lambda cell: cell_position[id(cell)])
            self._order = order
        self.fit_columns()
        if self.has_focus and selected is not None and selected in wanted:
            # The operator works in this table: the cursor stays on their issue as rows move.
            # Elsewhere it keeps its place, so the newest rows greet them when they come back.
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)

    def watch_cursor_coordinate(self, old_coordinate: Coordinate, new_coordinate: Coordinate) -> None:
        super().watch_cursor_coordinate(old_coordinate, new_coordinate)
        if self._on_cursor is not None and self.has_focus and old_coordinate.row != new_coordinate.row:
            key = self.selected_key
            if key is not None:
                self._on_cursor(key)

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> RowLines:
        """A row's rendered line, cached until that row changes, moves, or the cursor enters or leaves it.

        Why: DataTable keys its row cache on a table-wide update counter and on the cursor's
        coordinate, so one changed cell or one cursor step renders every visible row again
        (~0.3 ms a cell). With 200 sessions reporting progress that was most of each frame.
        """
        if row_key is self._header_row_key:
            version: int | str | None = "header"
            row_index = -1
        else:
            version = self._versions.get(row_key.value) if row_key.value is not None else None
            row_index = self._row_locations.get(row_key)
        if version is None or row_index is None or self.cursor_type != "row":
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        cache_key = (
            "row-version",
            row_key,
            version,
            row_index,
            line_no,
            base_style,
            self.show_cursor and cursor_location.row == row_index,
            self._show_hover_cursor and hover_location.row == row_index,
            self.show_cursor,
            self.size.width,
            tuple(column.get_render_width(self) for column in self.ordered_columns),
            self._pseudo_class_state,
        )
        cached = self._row_render_cache.get(cache_key)
        if cached is None:
            cached = super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
            # DataTable's own entry is keyed on the update counter and will not be hit again.
            self._row_render_cache[cache_key] = cached
        return cached

    def select_key(self, key: str) -> bool:
        """Put the cursor on an issue's row; False when the table does not show it."""
        if key not in self._signatures:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False)
        return True
