"""The diff pager: an issue's branch against its base, full screen, read on the host it ran on."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.highlighter import Highlighter
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.pager_log import PagerLog, next_line
from waterspider_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

FILE_HEADER = "diff --git "


class DiffHighlighter(Highlighter):
    """Added lines in the success colour, removed ones in the error colour, hunks and files marked."""

    def __init__(self, palette: Palette) -> None:
        self.palette = palette

    def highlight(self, text: Text) -> None:
        plain, palette = text.plain, self.palette
        if plain.startswith(FILE_HEADER):
            text.stylize(palette.bold + palette.accent)
        elif plain.startswith(("+++", "---", "index ", "new file", "deleted file", "rename ", "similarity ")):
            text.stylize(palette.muted)
        elif plain.startswith("@@"):
            text.stylize(palette.ready)
        elif plain.startswith("+"):
            text.stylize(palette.succeeded)
        elif plain.startswith("-"):
            text.stylize(palette.failed)


def file_lines(lines: list[str]) -> list[int]:
    """Where each file of the diff starts."""
    return [index for index, line in enumerate(lines) if line.startswith(FILE_HEADER)]


class DiffScreen(Screen[None]):
    """`feature/issue-N` against its base: the files changed, then each file's hunks; `n`/`N` step through files."""

    BINDINGS = [
        Binding("escape,q", "close", "close", id="diff_close", tooltip="Back to where you were"),
        Binding("n", "next_file(1)", "next file", id="diff_next_file", tooltip="The next file of the diff"),
        Binding("N", "next_file(-1)", "previous file", id="diff_previous_file", tooltip="The previous file of the diff"),
        Binding("r", "reload", "reload", id="diff_reload", tooltip="Read the diff again (the session may have committed since)"),
    ]

    def __init__(self, issue_key: str) -> None:
        super().__init__()
        self.issue_key = issue_key
        self._lines: list[str] = []
        self._loaded = False
        self._error = ""

    @property
    def wapp(self) -> WaterspiderApp:
        return cast("WaterspiderApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="diff-title")
        yield PagerLog(id="diff-log")
        yield Static(id="diff-position")
        yield KeyBar()

    def on_mount(self) -> None:
        log = self.query_one(PagerLog)
        log.highlighter = DiffHighlighter(self.wapp.palette)
        log.focus()
        self._render_app_view()
        self.load()

    def on_screen_resume(self) -> None:
        self._render_app_view()

    def _render_app_view(self) -> None:
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)

    def render_view(self, view: View, palette: Palette) -> None:
        self.query_one(StatusBar).show(view, palette, self.wapp.engine_note)
        self.query_one("#diff-title", Static).update(self._title(view, palette))
        self._show_position()

    def _title(self, view: View, palette: Palette) -> Text:
        task = view.task(self.issue_key)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f" Diff {view.label(self.issue_key)} ", palette.bold)
        if task is None:
            return text
        text.append(fmt.truncate(task.issue.title, 50))
        session = task.session
        if session is not None:
            text.append(f" · {session.branch} · {session.host or session.executor}", palette.muted)
        return text

    def _show_position(self) -> None:
        if not self._loaded:
            line = "reading the diff…"
        elif self._error:
            line = "the diff cannot be read"
        elif not self._lines:
            line = "no changes against the base"
        else:
            log = self.query_one(PagerLog)
            here = (log.current_line if log.current_line is not None else 0) + 1
            files = len(file_lines(self._lines))
            line = f"line {here} of {len(self._lines)} · {files} file{'s' if files != 1 else ''} changed"
        self.query_one("#diff-position", Static).update(" " + line)

    @work(group="diff-pager", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Read the diff through the engine (git on the session's own host)."""
        self._loaded, self._error = False, ""
        self._show_position()
        try:
            text = await self.wapp.engine.load_diff(self.issue_key)
        except Exception as error:  # a host that cannot be read is a line in the pager, not a crash
            self._error = str(error) or type(error).__name__
            text = f"The diff cannot be read: {self._error}"
        # An empty line would be dropped by the log; a space keeps line numbers and file starts aligned.
        self._lines = [line.expandtabs(4) or " " for line in text.splitlines()]
        log = self.query_one(PagerLog)
        log.clear()
        log.current_line = None
        log.write_lines(self._lines or ["No changes: the branch has nothing its base does not."])
        log.scroll_home(animate=False, immediate=True)
        self._loaded = True
        self._show_position()

    def action_close(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    def action_next_file(self, step: int) -> None:
        starts = file_lines(self._lines)
        if not starts:
            self.notify("No file to go to.", severity="information")
            return
        log = self.query_one(PagerLog)
        log.mark(next_line(starts, log.current_line, step, len(self._lines)))
        self._show_position()
