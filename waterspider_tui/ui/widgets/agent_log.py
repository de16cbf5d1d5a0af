"""The selected session's agent stream and the engine's event log: bounded, plain-text logs."""

from __future__ import annotations

from typing import Callable, Iterable, Self

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Log

from waterspider_tui.core import events as ev
from waterspider_tui.text.log_text import LOG_MARKERS
from waterspider_tui.ui.format import event_line
from waterspider_tui.ui.palette import Palette

MAX_LOG_LINES = 5000


class MarkerHighlighter(Highlighter):
    """Colours a log line by the marker it starts with (errors, tool calls, results, system)."""

    def __init__(self, palette: Palette) -> None:
        self.palette = palette
        self.styles = (
            (LOG_MARKERS["error"], palette.error),
            (LOG_MARKERS["tool"], palette.accent),
            ("  → error", palette.error),
            ("  →", palette.muted),
            ("  ↳", palette.muted),
            (LOG_MARKERS["system"], palette.muted),
        )

    def highlight(self, text: Text) -> None:
        plain = text.plain
        if plain.startswith(LOG_MARKERS["result"]):
            failed = plain.startswith(LOG_MARKERS["result"] + "failed")
            text.stylize((self.palette.failed if failed else self.palette.succeeded) + self.palette.bold)
            return
        for marker, style in self.styles:
            if plain.startswith(marker):
                text.stylize(style)
                return


class _BoundedLog(Log):
    """A `Log` whose growth repaints only itself, not the layout of the whole screen.

    Textual's `virtual_size` asks for a layout whenever it changes, and a `Log` changes it with
    every write and clear; a layout reflows the whole screen. A log's own size never depends on
    its content here (its height is `1fr`, its width the grid's), so new lines only need the log
    repainted and its scrollbar updated. Showing or hiding the scrollbar still lays it out, as
    `show_vertical_scrollbar` asks for that itself.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    _at_end = True
    """Whether the newest line was in view at the last scroll or write: a log that shrinks keeps it there."""

    def watch_virtual_size(self) -> None:
        if self.is_mounted and self.container_size:
            self._scroll_update(self.virtual_size)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._at_end = new >= self.max_scroll_y

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> Self:
        written = super().write_lines(lines, scroll_end)
        self._at_end = self.scroll_y >= self.max_scroll_y
        return written

    def on_resize(self) -> None:
        # A panel made shorter (a narrower terminal, a neighbour that grew) keeps its scroll offset,
        # which would hide the newest lines under the bottom edge.
        if self._at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _render_line(self, y: int, scroll_x: int, width: int) -> Strip:
        """The line as Log draws it, ending in `…` where it goes on past the right edge."""
        strip = super()._render_line(y, scroll_x, width)
        visible = min(width, self.scrollable_content_region.width)  # a vertical scrollbar covers the last cell
        if visible < 2 or y >= len(self._lines) or cell_len(self._lines[y]) <= scroll_x + visible:
            return strip
        segments = [*strip.crop(0, visible - 1), Segment("…", self.rich_style), *strip.crop(visible, width)]
        return Strip(segments, width).apply_offsets(scroll_x, y)


class AgentLog(_BoundedLog):
    """One session's readable stream; follows the tail only while scrolled to the bottom."""

    def __init__(self, *, id: str | None = None, max_lines: int = MAX_LOG_LINES) -> None:
        super().__init__(max_lines=max_lines, highlight=True, id=id)
        self.issue_key: str | None = None
        """The issue whose session is shown."""

    def set_palette(self, palette: Palette) -> None:
        self.highlighter = MarkerHighlighter(palette)
        self._render_line_cache.clear()
        self.refresh()

    def show(self, issue_key: str | None, lines: list[str]) -> None:
        """Replace the content with another session's recent lines, scrolled to the end."""
        self.issue_key = issue_key
        self.clear()
        self.write_lines(lines, scroll_end=True)

    def append(self, lines: list[str]) -> None:
        """Add new lines in one batch; stays put if the operator scrolled up."""
        if lines:
            self.write_lines(lines)


class _EventHighlighter(Highlighter):
    def __init__(self, palette: Palette) -> None:
        self.palette = palette

    def highlight(self, text: Text) -> None:
        plain = text.plain
        text.stylize(self.palette.muted, 0, 8)
        if " failed " in plain or "rejected " in plain or " warning: " in plain:
            text.stylize(self.palette.error, 9)
        elif " succeeded " in plain:
            text.stylize(self.palette.succeeded, 9)


class EventLog(_BoundedLog):
    """The engine's recent events, one line each, appended as snapshots bring new ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LOG_LINES, highlight=True, id=id)
        self._last: ev.Event | None = None

    def set_palette(self, palette: Palette) -> None:
        self.highlighter = _EventHighlighter(palette)
        self._render_line_cache.clear()
        self.refresh()

    def update_events(self, recent: tuple[ev.Event, ...], label: Callable[[str], str]) -> None:
        """Write the events newer than the last one written (found by identity in `recent`)."""
        start = 0
        if self._last is not None:
            for index in range(len(recent) - 1, -1, -1):
                if recent[index] is self._last:
                    start = index + 1
                    break
        new = recent[start:]
        if not new:
            return
        self._last = new[-1]
        lines = [event_line(event, label(event.issue_key) if event.issue_key else "") for event in new]
        self.write_lines([line for line in lines if line])
