"""A bordered panel with a title and an empty-state note, and the narrow layout's panel tabs."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from waterspider_tui.ui.palette import Palette

PANELS = (
    ("running", "1", "run"), ("ready", "2", "ready"), ("blocked", "3", "blocked"),
    ("finished", "4", "done"), ("hosts", "5", "hosts"), ("log", "6", "log"), ("events", "7", "events"),
)
"""Panel id, its key, and its short name in the tabs line."""


class Panel(Vertical):
    """One area of the control center; shows `empty_note` instead of its content when empty."""

    def __init__(self, *children: Widget, id: str, title: str, empty_note: str = "") -> None:
        self.note = Static(empty_note, classes="empty-note")
        self._note_text = empty_note
        super().__init__(self.note, *children, id=id, classes="panel")
        self._title = title
        self.border_title = title

    def set_title(self, title: str, count: int | None = None) -> None:
        """The border title, and the empty state when `count` is 0.

        Only a changed title is set: setting `border_title` repaints the whole panel, even to
        the same text.
        """
        if title != self._title:
            self._title = title
            self.border_title = title
        if count is not None:
            self.set_class(count == 0, "-empty")

    def set_note(self, note: str) -> None:
        if note != self._note_text:
            self._note_text = note
            self.note.update(note)


class PanelTabs(Static):
    """`1 run  2 ready  …  ? help` with the shown panel highlighted; only in the narrow layout."""

    _shown: tuple[str, Palette] | None = None

    def show(self, current_id: str, palette: Palette) -> None:
        if self._shown == (current_id, palette):
            return
        self._shown = (current_id, palette)
        text = Text(no_wrap=True, end="")
        for panel_id, key, name in PANELS:
            text.append(f" {key}", palette.bold)
            current = panel_id == current_id
            text.append(f" {name}", (palette.ready + palette.bold + Style(reverse=True)) if current else palette.muted)
            text.append(" ")
        for key, name in (("?", "help"), ("q", "quit")):
            text.append(f"  {key}", palette.bold)
            text.append(f" {name}", palette.muted)
        self.update(text)
