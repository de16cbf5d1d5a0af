"""Modals: an issue's detail, key help, cancel confirmation and the quit question."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from waterspider_tui.ui.detail import detail_renderable
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp


class TaskDetailScreen(ModalScreen[None]):
    """Score breakdown, dependencies both ways, attempts, workspace and PR of one issue; live."""

    BINDINGS = [
        Binding("escape,enter,q", "dismiss", "close", id="detail_close", tooltip="Close the detail"),
        Binding("l", "open_log", "log", id="detail_log", tooltip="This issue's agent log full screen"),
    ]

    def __init__(self, issue_key: str) -> None:
        super().__init__(classes="modal")
        self.issue_key = issue_key

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-box", classes="modal-box") as box:
            box.border_title = "Detail"
            box.border_subtitle = "esc close · l log"
            yield Static(id="detail-body")

    def action_open_log(self) -> None:
        cast("WaterspiderApp", self.app).open_log(self.issue_key)

    def on_mount(self) -> None:
        app = cast("WaterspiderApp", self.app)
        if app.view is not None:
            self.render_view(app.view, app.palette)

    def render_view(self, view: View, palette: Palette) -> None:
        waits_for_host = cast("WaterspiderApp", self.app).engine.waits_for_host(self.issue_key)
        self.query_one("#detail-body", Static).update(detail_renderable(view, self.issue_key, palette, waits_for_host))
        self.query_one("#detail-box").border_title = f"Detail {view.label(self.issue_key)}"


class ProblemsScreen(ModalScreen[None]):
    """Issue files that could not be read, and the warnings, newest first; live."""

    BINDINGS = [Binding("escape,w,q", "dismiss", "close", id="problems_close", tooltip="Close the list")]

    def __init__(self) -> None:
        super().__init__(classes="modal")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="problems-box", classes="modal-box") as box:
            box.border_title = "Problems"
            box.border_subtitle = "esc close"
            yield Static(id="problems-body")

    def on_mount(self) -> None:
        app = cast("WaterspiderApp", self.app)
        if app.view is not None:
            self.render_view(app.view, app.palette)

    def render_view(self, view: View, palette: Palette) -> None:
        snapshot = view.snapshot
        text = Text()
        text.append(f"Rejected issue files ({len(snapshot.rejected)})\n", palette.bold + palette.error)
        for path, error in sorted(snapshot.rejected.items()):
            text.append(f"  {path}\n", palette.bold)
            text.append(f"    {error}\n")
        if not snapshot.rejected:
            text.append("  none\n", palette.muted)
        text.append(f"\nWarnings ({len(snapshot.warnings)})\n", palette.bold + palette.warning)
        for warning in reversed(snapshot.warnings):
            text.append(f"  {warning}\n")
        if not snapshot.warnings:
            text.append("  none\n", palette.muted)
        self.query_one("#problems-body", Static).update(text)


HelpRow = tuple[str, str, str, str]
"""(keys, action, what it does, binding id for `[ui] keymap`; empty for keys that cannot be remapped)."""


NARROW_HELP_BELOW = 100
"""Terminals narrower than this get the help without a column of ids (each follows its description)."""


class HelpScreen(ModalScreen[None]):
    """Every key with what it does, as remapped by the keymap, by the screen or panel it works in."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close", id="help_close", tooltip="Close the help")]

    def __init__(self, sections: list[tuple[str, list[HelpRow]]]) -> None:
        super().__init__(classes="modal")
        self.sections = sections
        self._narrow = False

    @property
    def rows(self) -> list[HelpRow]:
        return [row for _, rows in self.sections for row in rows]

    def keys_table(self, narrow: bool) -> Group:
        """Each section's keys; narrow, each id goes after its description instead of a column of its own."""
        parts: list[Text | Table] = []
        for number, (title, rows) in enumerate(self.sections):
            parts.append(Text(("\n" if number else "") + title, style="bold underline"))
            # Fixed widths, so the columns of every section line up.
            table = Table(box=None, padding=(0, 1), show_header=False, expand=True)
            table.add_column("key", width=10 if narrow else 14, style="bold", overflow="fold")
            table.add_column("action", width=12 if narrow else 14)
            table.add_column("what it does", ratio=1)
            if not narrow:
                table.add_column("id", width=18, no_wrap=True, style="dim")
            for key, description, tooltip, binding_id in rows:
                if narrow:
                    table.add_row(key, description, Text(tooltip) + (Text(f"  {binding_id}", "dim") if binding_id else Text()))
                else:
                    table.add_row(key, description, tooltip, binding_id)
            parts.append(table)
        return Group(*parts)

    def compose(self) -> ComposeResult:
        intro = Text(
            "Queues, hosts and logs share the main screen; a narrow terminal shows one panel at a time. "
            "Actions apply to the issue under the cursor and go to the engine, which answers in a notification. "
            "Greyed keys do not apply to the selection. The id in grey remaps a key in "
            "[ui] keymap, e.g. keymap = { pause_dispatcher = \"P\" }.\n"
        )
        with VerticalScroll(id="help-box", classes="modal-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc close"
            yield Static(intro, id="help-intro")
            yield Static(self.keys_table(narrow=False), id="help-keys")

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW_HELP_BELOW
        if narrow != self._narrow:
            self._narrow = narrow
            self.query_one("#help-keys", Static).update(self.keys_table(narrow))


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; dismisses with True only on an explicit yes."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes", id="confirm_yes", tooltip="Yes, do it"),
        Binding("n,escape", "answer(False)", "no", id="confirm_no", tooltip="No, keep things as they are"),
    ]

    def __init__(self, question: str, yes: str, no: str) -> None:
        super().__init__(classes="modal")
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box question-box"):
            yield Static(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error")
                yield Button(f"{self.no} (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class QuitScreen(ModalScreen[str | None]):
    """Sessions are running: leave them for a later reattach, stop them, or stay."""

    BINDINGS = [
        Binding("l", "choose('leave')", "leave running", id="quit_leave", tooltip="Quit and leave sessions running to reattach later"),
        Binding("s", "choose('stop')", "stop them", id="quit_stop", tooltip="Stop every session, then quit"),
        Binding("c,escape", "choose(None)", "cancel", id="quit_cancel", tooltip="Do not quit"),
    ]

    def __init__(self, running: int) -> None:
        super().__init__(classes="modal")
        self.running = running

    def compose(self) -> ComposeResult:
        sessions = "1 session is" if self.running == 1 else f"{self.running} sessions are"
        one = self.running == 1
        they, go, are = ("It", "goes", "is") if one else ("They", "go", "are")
        question = Text()
        question.append(f"{sessions} running. Quit how?\n\n", "bold")
        question.append("Leave running", "bold")
        question.append(f": {they} {go} on without the control center. Start the same command again "
                        "in this folder to reattach and collect the results.\n")
        question.append("Stop", "bold")
        question.append(f": {they} {are} stopped now and requeued; work already committed stays on "
                        "the branch, and the next start runs the issue again.")
        with Vertical(classes="modal-box question-box"):
            yield Static(question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Leave running (l)", id="leave", variant="primary")
                yield Button("Stop them (s)", id="stop", variant="error")
                yield Button("Cancel (c)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#leave", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id if event.button.id in ("leave", "stop") else None)

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
