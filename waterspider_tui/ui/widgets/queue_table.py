"""A DataTable keyed by issue that is updated in place: changed cells only, rows moved by sort."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

Row = tuple[str, tuple[Text, ...]]


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

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._column_spec = tuple(columns)
        self._signatures: dict[str, tuple[tuple[object, ...], ...]] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._order: list[str] = []
        for label, key in self._column_spec:
            self.add_column(label, key=key)

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
        wanted = {key for key, _ in rows}
        column_keys = [key for _, key in self._column_spec]
        changed_order = False
        for key in [key for key in self._signatures if key not in wanted]:
            self.remove_row(key)
            del self._signatures[key]
            del self._cells[key]
            changed_order = True
        for key, cells in rows:
            if self._cells.get(key) is cells:
                continue
            signatures = tuple(text_signature(cell) for cell in cells)
            old = self._signatures.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                changed_order = True
            elif old != signatures:
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
        if self.has_focus and selected is not None and selected in wanted:
            # The operator works in this table: the cursor stays on their issue as rows move.
            # Elsewhere it keeps its place, so the newest rows greet them when they come back.
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)

    def select_key(self, key: str) -> bool:
        """Put the cursor on an issue's row; False when the table does not show it."""
        if key not in self._signatures:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False)
        return True
