"""The log pager's log: scrolls with the keys, marks the line jumped to, highlights a search,
and finds the next match or error line from the marked one."""

from __future__ import annotations

from rich.highlighter import Highlighter
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.strip import Strip

from waterspider_tui.text.log_text import is_error_line
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.widgets.agent_log import AgentLog, MarkerHighlighter

PAGER_MAX_LINES = 100_000


class SearchHighlighter(Highlighter):
    """The log's colours, with every occurrence of the search text marked."""

    def __init__(self, base: Highlighter, needle: str, style: Style) -> None:
        self.base, self.needle, self.style = base, needle.lower(), style

    def highlight(self, text: Text) -> None:
        self.base.highlight(text)
        if not self.needle:
            return
        plain = text.plain.lower()
        start = plain.find(self.needle)
        while start >= 0:
            text.stylize(self.style, start, start + len(self.needle))
            start = plain.find(self.needle, start + len(self.needle))


class PagerLog(AgentLog):
    """The pager's log: scrolls with the keys, marks the line the operator jumped to."""

    BINDINGS = [
        Binding("up", "scroll_up", "up", show=False),
        Binding("down", "scroll_down", "down", show=False),
        Binding("left", "scroll_left", "left", show=False),
        Binding("right", "scroll_right", "right", show=False),
        Binding("pageup", "page_up", "page up", show=False),
        Binding("pagedown,space", "page_down", "page down", show=False),
        Binding("home,g", "scroll_home", "top", show=False),
        Binding("end,G", "scroll_end", "bottom", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=PAGER_MAX_LINES)
        self.current_line: int | None = None
        """The line the last jump landed on, shown reversed."""

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        strip = super()._render_line_strip(y, rich_style)
        return strip.apply_style(Style(reverse=True)) if y == self.current_line else strip

    def mark(self, line: int) -> None:
        """Mark a line and scroll it into the upper third of the view."""
        previous, self.current_line = self.current_line, line
        for y in (previous, line):
            if y is not None:
                self._render_line_cache.discard(y)
        self.scroll_to(y=max(line - self.size.height // 3, 0), animate=False, immediate=True)
        self.refresh()



def matching_lines(lines: list[str], needle: str | None) -> list[int]:
    """Lines holding `needle` (case-insensitive), or the error lines for None."""
    if needle is None:
        return [index for index, line in enumerate(lines) if is_error_line(line)]
    lowered = needle.lower()
    return [index for index, line in enumerate(lines) if lowered in line.lower()]


def next_line(lines: list[int], here: int | None, step: int, total: int) -> int:
    """The next (step 1) or previous (-1) of `lines` from `here`, wrapping around; `here` None is past the end."""
    position = here if here is not None else (total if step > 0 else -1)
    if step > 0:
        return next((line for line in lines if line > position), lines[0])
    return next((line for line in reversed(lines) if line < position), lines[-1])


def highlighter_for(palette: Palette, needle: str) -> SearchHighlighter:
    """The pager's highlighter: the log's colours, and the search text reversed."""
    return SearchHighlighter(MarkerHighlighter(palette), needle, Style(reverse=True, bold=True))
