"""The log pager: one session's agent log full screen, any attempt, searchable, errors one key away,
followed live while the session runs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, Static

from waterspider_tui.core.models import LogEntry, TaskState
from waterspider_tui.text.log_text import log_lines
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.pager_log import PagerLog, highlighter_for, matching_lines, next_line
from waterspider_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

PAGER_LINE_WIDTH = 2000
"""Tool calls and results are one line each; the pager lets them run this long (it scrolls sideways)."""


class _SearchInput(Input):
    BINDINGS = [Binding("enter", "submit", "find"), Binding("escape", "cancel", "cancel")]

    class Cancelled(Message):
        """The operator left the search box without searching."""

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class _LinesArrived(Message):
    """New log entries of the followed session wait in the pager's buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, _LinesArrived)


class LogScreen(Screen[None]):
    """One session's log, full screen; `[` and `]` step through the issue's attempts."""

    BINDINGS = [
        Binding("escape,q", "close", "close", id="log_close", tooltip="Back to where you were"),
        Binding("slash", "search", "search", id="log_search", tooltip="Find a text in the log (enter jumps to it)"),
        Binding("n", "next_match(1)", "next", id="log_next_match", tooltip="The next line with the searched text"),
        Binding("N", "next_match(-1)", "previous", id="log_previous_match", tooltip="The previous line with the searched text"),
        Binding("e", "next_error(1)", "next error", id="log_next_error", tooltip="The next error or failed tool call"),
        Binding("E", "next_error(-1)", "previous error", id="log_previous_error", show=False, tooltip="The previous error or failed tool call"),
        Binding("f", "toggle_follow", "follow", id="log_follow", tooltip="Keep showing new lines as the session writes them"),
        Binding("left_square_bracket", "attempt(-1)", "older attempt", id="log_older", tooltip="The log of the attempt before this one"),
        Binding("right_square_bracket", "attempt(1)", "newer attempt", id="log_newer", tooltip="The log of the attempt after this one"),
    ]

    following: reactive[bool] = reactive(False, init=False)
    """New lines of a running session are shown as they come, and the view stays at the end."""

    def __init__(self, issue_key: str, attempt: int | None = None) -> None:
        super().__init__()
        self.issue_key = issue_key
        self.attempt = attempt
        """The attempt shown; None until the first load picks the last one."""
        self.needle = ""
        self._lines: list[str] = []
        self._loaded = False
        self._lock = threading.Lock()
        self._pending: list[LogEntry] = []
        self._palette: Palette | None = None
        self._unsubscribe = lambda: None

    @property
    def wapp(self) -> WaterspiderApp:
        return cast("WaterspiderApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="log-title")
        yield PagerLog(id="pager-log")
        yield Static(id="log-position")
        search = _SearchInput(placeholder="find in the log (enter jumps to the first match, esc cancels)", id="log-search")
        search.cursor_blink = False
        yield search
        yield KeyBar()

    def on_mount(self) -> None:
        self._unsubscribe = self.wapp.engine.subscribe_logs(self._on_engine_logs)
        self.query_one(PagerLog).focus()
        self._render_app_view()
        self.load()

    def on_unmount(self) -> None:
        self._unsubscribe()

    def on_screen_resume(self) -> None:
        self._render_app_view()

    def _render_app_view(self) -> None:
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)

    # What is shown

    def _attempts(self, view: View | None) -> list[int]:
        task = view.task(self.issue_key) if view else None
        if task is None:
            return []
        numbers = {attempt.attempt for attempt in task.history}
        if task.session is not None:
            numbers.add(task.session.attempt)
        return sorted(numbers)

    def _is_live(self) -> bool:
        """The shown attempt is the issue's session that runs now."""
        task = self.wapp.view.task(self.issue_key) if self.wapp.view else None
        return task is not None and task.state is TaskState.RUNNING and task.session is not None and task.session.attempt == self.attempt

    def render_view(self, view: View, palette: Palette) -> None:
        self.query_one(StatusBar).show(view, palette, self.wapp.engine_note)
        if palette is not self._palette:
            self._palette = palette
            self._set_highlighter()
        self.query_one("#log-title", Static).update(self._title(view, palette))
        self._show_position()

    def _title(self, view: View, palette: Palette) -> Text:
        task = view.task(self.issue_key)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f" Log {view.label(self.issue_key)} ", palette.bold)
        if task is None:
            return text
        text.append(fmt.truncate(task.issue.title, 50))
        attempts = self._attempts(view)
        if self.attempt is not None and attempts:
            text.append(f" · attempt {self.attempt} of {max(attempts)}", palette.muted)
        done = next((attempt for attempt in task.history if attempt.attempt == self.attempt), None)
        session = task.session if task.session is not None and task.session.attempt == self.attempt else None
        where = session.host or session.executor if session else done.host if done else ""
        if where:
            text.append(f" · {where}", palette.muted)
        if done is not None:
            failed = done.outcome.value != "succeeded"
            outcome = done.outcome.value + (f" ({done.error_class.value})" if done.error_class else "")
            text.append(f" · {outcome}", palette.failed if failed else palette.succeeded)
        elif self._is_live():
            text.append(" · running", palette.running)
        return text

    def _show_position(self) -> None:
        log = self.query_one(PagerLog)
        parts: list[str] = []
        if not self._loaded:
            parts.append("reading the log…")
        elif not self._lines:
            parts.append("no lines")
        else:
            line = (log.current_line if log.current_line is not None else len(self._lines) - 1) + 1
            parts.append(f"line {line} of {len(self._lines)}")
        if self.needle:
            count = len(self._matches(self.needle))
            parts.append(f"{count} match{'es' if count != 1 else ''} for “{self.needle}”")
        errors = len(self._matches(None))
        if errors:
            parts.append(f"{errors} error line{'s' if errors != 1 else ''}")
        if self._is_live():
            parts.append("following" if self.following else "running (f follows)")
        self.query_one("#log-position", Static).update(" " + " · ".join(parts))

    def _set_highlighter(self) -> None:
        log = self.query_one(PagerLog)
        log.highlighter = highlighter_for(self._palette or self.wapp.palette, self.needle)
        log._render_line_cache.clear()
        log.refresh()

    # Loading and following

    @work(group="log-pager", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Read the shown attempt's log through the engine (from its host, after a restart too)."""
        self._loaded = False
        self._show_position()
        if self.attempt is None:
            attempts = self._attempts(self.wapp.view)
            self.attempt = attempts[-1] if attempts else None
        try:
            entries = await self.wapp.engine.load_session_log(self.issue_key, self.attempt)
        except Exception as error:  # a host that cannot be read must not close the pager
            entries = [LogEntry("error", f"the log cannot be read: {type(error).__name__}: {error}")]
        with self._lock:
            self._pending.clear()
        self._lines = log_lines(entries, PAGER_LINE_WIDTH)
        log = self.query_one(PagerLog)
        log.clear()
        log.current_line = None
        log.write_lines(self._lines, scroll_end=True)
        # Long lines bring a horizontal scrollbar that takes the last row: end there once laid out.
        self.call_after_refresh(log.scroll_end, animate=False, immediate=True)
        self._loaded = True
        self.following = self._is_live()
        self._render_app_view()

    def _on_engine_logs(self, issue_key: str, entries: list[LogEntry]) -> None:
        """Engine callback: keep the shown live session's new entries, post one message a burst."""
        if issue_key != self.issue_key or not self._loaded or not entries or not self._is_live():
            return
        with self._lock:
            self._pending.extend(entries)
        self.post_message(_LinesArrived())

    def on__lines_arrived(self, message: _LinesArrived) -> None:
        with self._lock:
            entries, self._pending = self._pending, []
        lines = log_lines(entries, PAGER_LINE_WIDTH)
        if not lines:
            return
        self._lines += lines
        log = self.query_one(PagerLog)
        log.write_lines(lines, scroll_end=self.following)
        self._show_position()

    def watch_following(self, following: bool) -> None:
        if following:
            log = self.query_one(PagerLog)
            log.current_line = None
            log.scroll_end(animate=False, immediate=True)
        self._show_position()

    # Keys

    def action_close(self) -> None:
        self.dismiss()

    def action_toggle_follow(self) -> None:
        if not self._is_live():
            self.notify("This session has ended: there is nothing more to follow.", severity="information")
            return
        self.following = not self.following

    def action_attempt(self, step: int) -> None:
        attempts = self._attempts(self.wapp.view)
        if self.attempt not in attempts:
            return
        index = attempts.index(self.attempt) + step
        if not 0 <= index < len(attempts):
            self.notify("No older attempt." if step < 0 else "No newer attempt.", severity="information")
            return
        self.attempt = attempts[index]
        self.load()

    def action_search(self) -> None:
        search = self.query_one("#log-search", _SearchInput)
        self.add_class("-searching")
        search.value = self.needle
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.needle = event.value.strip()
        self._end_search()
        self._set_highlighter()
        if self.needle:
            self._jump(self._matches(self.needle), 1, f"No line holds “{self.needle}”.", from_start=True)
        self._show_position()

    def on__search_input_cancelled(self, message: _SearchInput.Cancelled) -> None:
        self._end_search()

    def _end_search(self) -> None:
        self.remove_class("-searching")
        self.query_one(PagerLog).focus()

    def action_next_match(self, step: int) -> None:
        if not self.needle:
            self.action_search()
            return
        self._jump(self._matches(self.needle), step, f"No line holds “{self.needle}”.")

    def action_next_error(self, step: int) -> None:
        self._jump(self._matches(None), step, "No errors in this log.")

    def _matches(self, needle: str | None) -> list[int]:
        return matching_lines(self._lines, needle)

    def _jump(self, lines: list[int], step: int, none_found: str, *, from_start: bool = False) -> None:
        """Mark the next (or previous) of `lines` from the marked one, wrapping around."""
        if not lines:
            self.notify(none_found, severity="information")
            return
        log = self.query_one(PagerLog)
        target = lines[0] if from_start else next_line(lines, log.current_line, step, len(self._lines))
        self.following = False
        log.mark(target)
        self._show_position()
