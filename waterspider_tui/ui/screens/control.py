"""The control center: queues, the selected session's log, hosts and events; one panel when narrow."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input

from waterspider_tui.ui import rows as row_builders
from waterspider_tui.ui.messages import IssueSelected
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.agent_log import AgentLog, EventLog
from waterspider_tui.ui.widgets.hosts import HostsPanel, sessions_by_host
from waterspider_tui.ui.widgets.panel import PANELS, Panel, PanelTabs
from waterspider_tui.ui.widgets.queue_table import QueueTable
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

ROOMY_FROM = 180
"""From this width titles get more room in the tables."""
WIDE_FROM = 100
"""Terminals at least this wide (and TALL_FROM high) show every panel at once."""
TALL_FROM = 32

_TABLE_PANELS = ("running", "ready", "blocked", "finished")
LOG_NOTE = "Select an issue that has run to read its agent's log (l shows it full screen)."


class ControlScreen(Screen[None]):
    """Every area at once on a big terminal; one at a time (keys 1-7) on a small one."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL_FROM, "-tall")]
    BINDINGS = [
        Binding("escape", "clear_filter", "clear filter", id="clear_filter", tooltip="Clear the filter and show every issue"),
        Binding("tab", "step_panel(1)", "next panel", show=False),
        Binding("shift+tab", "step_panel(-1)", "previous panel", show=False),
    ]

    current_panel: reactive[str] = reactive("running")
    """The panel shown in the narrow layout (and focused in the wide one)."""
    filter_text: reactive[str] = reactive("")
    """Only issues whose key, title or a label contains this are listed."""

    def __init__(self) -> None:
        super().__init__()
        self._view: View | None = None
        self._palette: Palette | None = None
        self._widths = row_builders.TITLE_WIDTHS["wide"]
        self._caches = {panel_id: row_builders.RowCache() for panel_id in _TABLE_PANELS}

    @property
    def wapp(self) -> WaterspiderApp:
        return cast("WaterspiderApp", self.app)

    def _select(self, key: str | None) -> None:
        self.app.post_message(IssueSelected(key))  # straight to the App: one hop, not two, while snapshots stream

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        filter_input = Input(placeholder="filter: issue number, title or label  (enter keeps it, esc clears)", id="filter")
        filter_input.cursor_blink = False
        # Focusable only while open: keys typed during start-up reach the app before the
        # stylesheet hides the box, and Textual would focus (and type into) the first input.
        filter_input.can_focus = False
        yield filter_input
        with Container(id="panels"):
            yield Panel(QueueTable(row_builders.RUNNING_COLUMNS, id="running-table", on_cursor=self._select, fixed_columns=1), id="running", title="1 Running", empty_note="Nothing running.")
            yield Panel(QueueTable(row_builders.READY_COLUMNS, id="ready-table", on_cursor=self._select, fixed_columns=2), id="ready", title="2 Ready", empty_note="Nothing ready.")
            yield Panel(QueueTable(row_builders.BLOCKED_COLUMNS, id="blocked-table", on_cursor=self._select, fixed_columns=1), id="blocked", title="3 Blocked", empty_note="Nothing blocked.")
            yield Panel(QueueTable(row_builders.FINISHED_COLUMNS, id="finished-table", on_cursor=self._select, fixed_columns=2), id="finished", title="4 Finished", empty_note="Nothing finished yet.")
            yield Panel(AgentLog(id="agent-log"), id="log", title="6 Log", empty_note=LOG_NOTE)
            yield Panel(HostsPanel(id="hosts-list"), id="hosts", title="5 Hosts", empty_note="No hosts yet.")
            yield Panel(EventLog(id="event-log"), id="events", title="7 Events", empty_note="No events yet.")
        yield PanelTabs(id="tabs")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#running").add_class("-current")
        self.query_one("#running-table").focus()
        self.wapp.attach_control(self)

    def on_resize(self) -> None:
        width, height = self.size
        regime = "narrow" if width < WIDE_FROM or height < TALL_FROM else "medium" if width < ROOMY_FROM else "wide"
        widths = row_builders.TITLE_WIDTHS[regime]
        if widths != self._widths:
            self._widths = widths
            if self._view is not None and self._palette is not None:
                self.render_view(self._view, self._palette)

    def on_screen_resume(self) -> None:
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)

    # Rendering

    def render_view(self, view: View, palette: Palette) -> None:
        """Pass a new view on to every panel; tables change only where rows changed."""
        self._view = view
        if palette is not self._palette:
            self._palette = palette
            self.query_one(AgentLog).set_palette(palette)
            self.query_one(EventLog).set_palette(palette)
        needle = self.filter_text
        widths = self._widths
        counts = view.counts()
        with self.app.batch_update():
            self.query_one(StatusBar).show(view, palette, self.wapp.engine_note)
            running = row_builders.running_rows(view, palette, needle, widths["running"], self._caches["running"])
            self._table("running").sync(running)
            self._panel("running").set_title(f"1 Running {counts['running']}/{view.capacity}", len(running))
            ready = row_builders.ready_rows(view, palette, needle, widths["ready"], self._caches["ready"])
            self._table("ready").sync(ready)
            self._panel("ready").set_title(f"2 Ready {counts['ready']} · dispatch order", len(ready))
            blocked = row_builders.blocked_rows(view, palette, needle, widths["blocked"], self._caches["blocked"])
            self._table("blocked").sync(blocked)
            self._panel("blocked").set_title(f"3 Blocked {counts['blocked']}", len(blocked))
            finished = row_builders.finished_rows(view, palette, needle, widths["finished"], self._caches["finished"])
            self._table("finished").sync(finished)
            done = counts["succeeded"] + counts["failed"] + counts["cancelled"]
            self._panel("finished").set_title(f"4 Finished {done} · ✔ {counts['succeeded']} ✘ {counts['failed']}", len(finished))
            self._render_notes(view)
            hosts, checking = view.hosts()
            up = sum(1 for name, host in hosts.items() if host.reachable and name not in checking)
            self.query_one(HostsPanel).update_hosts(
                hosts, view.now, palette, draining=view.snapshot.draining, sessions=sessions_by_host(view.snapshot, view.label), checking=checking,
            )
            self._panel("hosts").set_title(f"5 Hosts {up}/{len(hosts)} up", len(hosts))
            self.query_one(EventLog).update_events(view.snapshot.recent, view.label)
            self._panel("events").set_title("7 Events", len(view.snapshot.recent))
            self.query_one(PanelTabs).show(self.current_panel, palette)

    def _render_notes(self, view: View) -> None:
        if not view.snapshot.tasks:
            self._panel("ready").set_note(f"No issues yet: waiting for the first poll of {view.title}.")
        elif self.filter_text:
            for panel_id in _TABLE_PANELS:
                self._panel(panel_id).set_note(f"No match for “{self.filter_text}”.")
        else:
            self._panel("ready").set_note("Nothing ready.")
        if view.snapshot.dispatcher_paused and not view.plan.running:
            self._panel("running").set_note("Nothing running: the dispatcher is paused (p resumes).")

    def show_log(self, issue_key: str | None, title: str, lines: list[str], note: str = "") -> None:
        """Show another session's log from its recent lines; `note` stands in while there are none."""
        self.query_one(AgentLog).show(issue_key, lines)
        panel = self._panel("log")
        panel.set_note(note or LOG_NOTE)
        panel.set_title(f"6 Log {title}" if title else "6 Log", len(lines) if issue_key else 0)

    def append_log(self, lines: list[str]) -> None:
        self.query_one(AgentLog).append(lines)
        if lines:
            self._panel("log").set_class(False, "-empty")

    def _table(self, panel_id: str) -> QueueTable:
        return self.query_one(f"#{panel_id}-table", QueueTable)

    def _panel(self, panel_id: str) -> Panel:
        return self.query_one(f"#{panel_id}", Panel)

    # Panels, selection and filter

    def show_panel(self, panel_id: str) -> None:
        """Make a panel the shown one (narrow) and focus what it holds."""
        self.current_panel = panel_id
        panel = self._panel(panel_id)
        target: Widget = panel.query_one("QueueTable, AgentLog, EventLog, HostsPanel")
        # Restyle and focus now, not on the next idle: a key typed right after (say `2↓⏎`)
        # must reach the panel just shown, and a hidden widget cannot take focus.
        self.app.stylesheet.update_nodes([panel], animate=False)
        self.set_focus(target)

    def watch_current_panel(self, old: str, new: str) -> None:
        self.query_one(f"#{old}").remove_class("-current")
        self.query_one(f"#{new}").add_class("-current")
        if self._palette is not None:
            self.query_one(PanelTabs).show(new, self._palette)

    def reveal(self, key: str) -> bool:
        """Show the panel that lists an issue and put the cursor on it."""
        if self.filter_text:
            self.action_clear_filter()
        for panel_id in _TABLE_PANELS:
            table = self._table(panel_id)
            if key in table.keys:
                self.show_panel(panel_id)
                table.select_key(key)
                self._select(key)
                return True
        return False

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        if focused is None:
            return
        for panel_id, _, _ in PANELS:
            if self._panel(panel_id) in focused.ancestors:
                if self.current_panel != panel_id:
                    self.current_panel = panel_id
                break
        if isinstance(focused, QueueTable) and focused.selected_key:
            self._select(focused.selected_key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.focused and event.row_key.value:
            self._select(event.row_key.value)

    def selected_in_table(self) -> str | None:
        focused = self.focused
        return focused.selected_key if isinstance(focused, QueueTable) else None

    def open_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        self._show_filter(True)
        # Restyle and focus now, as show_panel does: a key typed right after `/` belongs in the box.
        self.app.stylesheet.update_nodes([filter_input], animate=False)
        self.set_focus(filter_input)

    def _show_filter(self, shown: bool) -> None:
        self.set_class(shown, "-filtering")
        self.query_one("#filter", Input).can_focus = shown

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self.filter_text:
            self._show_filter(False)
        self.show_panel(self.current_panel if self.current_panel in _TABLE_PANELS else "ready")

    def watch_filter_text(self) -> None:
        if self._view is not None and self._palette is not None:
            self.render_view(self._view, self._palette)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text) or self.has_class("-filtering")
        return True

    def action_step_panel(self, step: int) -> None:
        """Show and focus the next (or previous) panel in the order of their number keys.

        Why not Textual's focus chain: in the narrow layout the other panels are hidden, so it
        has nowhere to go; and in the wide one it follows the grid, not the numbers.
        """
        order = [panel_id for panel_id, _, _ in PANELS]
        index = order.index(self.current_panel) if self.current_panel in order else 0
        self.show_panel(order[(index + step) % len(order)])

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        filter_input.value = ""
        self.filter_text = ""
        self._show_filter(False)
        if self.focused is filter_input or self.focused is None:
            self.show_panel(self.current_panel)
