"""One row per executor host: slots, load with its recent history, memory, reachability."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Sparkline, Static

from waterspider_tui.core.models import HostStatus
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.widgets.queue_table import text_signature


def host_summary(host: HostStatus, now: float, palette: Palette) -> tuple[Text, Text, Text, tuple[float, ...]]:
    """(name and slots, load, memory and probe age, load history) for one host's row."""
    head = Text(no_wrap=True, end="")
    head.append(f"{fmt.truncate(host.name, 10):<10} ", palette.error if not host.reachable else palette.bold)
    used_style = palette.warning if host.slots_used >= host.slots_total > 0 else None
    head.append(f"{host.slots_used}/{host.slots_total}", used_style or "")
    load = Text(f"load {host.load:.1f}" if host.load is not None else "load –", no_wrap=True, end="")
    tail = Text(no_wrap=True, end="")
    if not host.reachable:
        tail.append("unreachable", palette.error)
        if host.error:
            tail.append(f": {fmt.truncate(host.error, 40)}", palette.error)
    elif host.mem_percent is not None:
        tail.append(f"mem {host.mem_percent:.0f}%")
    if host.probed_at:
        tail.append(f"  {fmt.duration(now - host.probed_at)} ago", palette.muted)
    return head, load, tail, host.load_history


class HostRow(Horizontal):
    """A host's line; updated in place when a new probe arrives."""

    def __init__(self, host: HostStatus, now: float, palette: Palette) -> None:
        super().__init__(classes="host-row -down" if not host.reachable else "host-row")
        self.host_name = host.name
        parts = host_summary(host, now, palette)
        self._first = (parts, list(host.load_history))
        self._shown: tuple[object, ...] = self._signature(parts)
        self._pending: tuple[HostStatus, float, Palette] | None = None
        """The latest probe when it arrived before this row was mounted."""

    def compose(self) -> ComposeResult:
        (head, load, tail, _), history = self._first
        yield Static(head, classes="host-head")
        yield Static(load, classes="host-load")
        spark = Sparkline(history, classes="host-spark")
        spark.visible = bool(history)
        yield spark
        yield Static(tail, classes="host-tail")

    @staticmethod
    def _signature(parts: tuple[Text, Text, Text, tuple[float, ...]]) -> tuple[object, ...]:
        return (*(text_signature(text) for text in parts[:3]), parts[3])

    def on_mount(self) -> None:
        if self._pending is not None:
            self.show(*self._pending)

    def show(self, host: HostStatus, now: float, palette: Palette) -> None:
        """Update in place; a part whose text did not change is not touched (no relayout)."""
        if not self.is_mounted:
            self._pending = (host, now, palette)
            return
        parts = host_summary(host, now, palette)
        shown = self._signature(parts)
        if shown == self._shown:
            return
        self._shown = shown
        head, load, tail, _ = parts
        self.set_class(not host.reachable, "-down")
        self.query_one(".host-head", Static).update(head)
        self.query_one(".host-load", Static).update(load)
        history = list(host.load_history)
        spark = self.query_one(Sparkline)
        spark.visible = bool(history)
        if list(spark.data or []) != history:
            spark.data = history
        self.query_one(".host-tail", Static).update(tail)


class HostsPanel(VerticalScroll):
    """All hosts, one row each, keyed by name."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, HostRow] = {}

    def update_hosts(self, hosts: dict[str, HostStatus], now: float, palette: Palette) -> None:
        """Show exactly these hosts, adding and removing rows only when the set changes."""
        for name in [name for name in self._rows if name not in hosts]:
            self._rows.pop(name).remove()
        names = sorted(hosts)
        for index, name in enumerate(names):
            row = self._rows.get(name)
            if row is None:
                row = self._rows[name] = HostRow(hosts[name], now, palette)
                later = [self._rows[other] for other in names[index + 1 :] if other in self._rows and self._rows[other].parent]
                self.mount(row, before=later[0] if later else None)
            else:
                row.show(hosts[name], now, palette)
