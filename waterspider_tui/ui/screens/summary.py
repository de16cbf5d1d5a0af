"""The results screen: the night so far in one place, from the same figures as `waterspider report`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from waterspider_tui.text.event_text import duration
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

TOP_ROWS = 5


def totals_text(figures: dict[str, Any], palette: Palette) -> Text:
    """The totals as two lines: outcomes by issue, then sessions, cost, agent time, pull requests."""
    totals = figures["totals"]
    text = Text(no_wrap=False, end="")
    text.append(f"{totals['issues']} issues: ", palette.bold)
    text.append(f"✔ {totals['succeeded']} succeeded", palette.succeeded)
    text.append("  ")
    text.append(f"✘ {totals['failed']} failed", palette.failed if totals["failed"] else palette.muted)
    text.append(f"  ↻ {totals['retrying']} retrying  ■ {totals['cancelled']} cancelled\n", palette.muted)
    text.append(
        f"{totals['sessions']} sessions · {fmt.money(totals['cost_usd'])} · {duration(totals['duration_s'])} of agent time · "
        f"{totals['turns']} turns · {totals['pull_requests']} pull requests · {totals['gate_failures']} gate failures",
    )
    return text


def _issue_table(title: str, issues: list[dict[str, Any]], view: View, palette: Palette) -> Table:
    table = Table(title=title, title_justify="left", title_style=palette.bold, box=None, padding=(0, 1), expand=True, show_header=False)
    table.add_column("issue", no_wrap=True, style=palette.accent)
    table.add_column("title", ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column("outcome", no_wrap=True)
    table.add_column("took", no_wrap=True, justify="right")
    table.add_column("cost", no_wrap=True, justify="right")
    for item in issues[:TOP_ROWS]:
        outcome = item["outcome"] + (f" ({item['error_class']})" if item["error_class"] else "")
        style = palette.succeeded if item["outcome"] == "succeeded" else palette.failed if item["outcome"] == "failed" else palette.muted
        table.add_row(view.label(item["issue"]), item["title"], Text(outcome, style), duration(item["duration_s"]), fmt.money(item["cost_usd"]))
    if not issues:
        table.add_row(Text("none yet", palette.muted), "", "", "", "")
    return table


def failures_table(figures: dict[str, Any], palette: Palette) -> Table:
    """Each failure class with its sessions and what to do about it."""
    table = Table(title="Failures", title_justify="left", title_style=palette.bold, box=None, padding=(0, 1), expand=True, show_header=False)
    table.add_column("class", no_wrap=True, style=palette.failed)
    table.add_column("count", no_wrap=True, justify="right")
    table.add_column("advice", ratio=1)
    for failure in figures["failures"]:
        table.add_row(failure["error_class"], f"×{failure['sessions']}", failure["advice"])
    if not figures["failures"]:
        table.add_row(Text("none", palette.muted), "", "")
    return table


def hosts_table(figures: dict[str, Any], palette: Palette) -> Table:
    table = Table(title="By host", title_justify="left", title_style=palette.bold, box=None, padding=(0, 1), expand=True, show_header=False)
    table.add_column("host", no_wrap=True, style=palette.accent)
    table.add_column("sessions", no_wrap=True, justify="right")
    table.add_column("outcomes", no_wrap=True)
    table.add_column("cost", no_wrap=True, justify="right")
    table.add_column("time", no_wrap=True, justify="right")
    for name, group in figures["by_host"].items():
        outcomes = Text(f"✔ {group['succeeded']} ", palette.succeeded) + Text(f"✘ {group['failed']}", palette.failed if group["failed"] else palette.muted)
        table.add_row(name, f"{group['count']} session{'s' if group['count'] != 1 else ''}", outcomes, fmt.money(group["cost_usd"]), duration(group["duration_s"]))
    if not figures["by_host"]:
        table.add_row(Text("none yet", palette.muted), "", "", "", "")
    return table


class SummaryScreen(Screen[None]):
    """Totals, failure classes with their advice, the slowest and costliest issues, per host."""

    BINDINGS = [
        Binding("escape,q,R", "close", "close", id="summary_close", tooltip="Back to the queues"),
        Binding("r", "reload", "reload", id="summary_reload", tooltip="Add up the finished sessions again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, Any] | None = None
        """The report's figures, once read from the engine."""
        self._error = ""

    @property
    def wapp(self) -> WaterspiderApp:
        return cast("WaterspiderApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(" Results · every finished session, as `waterspider report` adds them up", id="summary-title")
        with VerticalScroll(id="summary-body"):
            yield Static("Adding up the finished sessions…", id="summary-totals")
            yield Static(id="summary-failures")
            yield Static(id="summary-slowest")
            yield Static(id="summary-expensive")
            yield Static(id="summary-hosts")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#summary-body").focus()
        self._render_app_view()
        self.load()

    def on_screen_resume(self) -> None:
        self._render_app_view()

    def _render_app_view(self) -> None:
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)

    @work(group="summary", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        try:
            self.figures, self._error = await self.wapp.engine.load_results(), ""
        except Exception as error:  # a store that cannot be read is a line on the screen, not a crash
            self.figures, self._error = None, f"The results cannot be read: {type(error).__name__}: {error}"
        self._render_app_view()

    def render_view(self, view: View, palette: Palette) -> None:
        self.query_one(StatusBar).show(view, palette, self.wapp.engine_note)
        figures = self.figures
        if figures is None:
            self.query_one("#summary-totals", Static).update(Text(self._error, palette.error) if self._error else "Adding up the finished sessions…")
            return
        self.query_one("#summary-totals", Static).update(totals_text(figures, palette))
        self.query_one("#summary-failures", Static).update(failures_table(figures, palette))
        self.query_one("#summary-slowest", Static).update(_issue_table("Slowest", figures["slowest"], view, palette))
        self.query_one("#summary-expensive", Static).update(_issue_table("Most expensive", figures["most_expensive"], view, palette))
        self.query_one("#summary-hosts", Static).update(hosts_table(figures, palette))

    def action_close(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()
