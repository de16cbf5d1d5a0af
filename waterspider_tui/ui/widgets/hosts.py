"""One row per executor host: state (up, drained, down), slots, load and memory with their history, sessions.

The highlighted host is the one `space` drains or restores; the panel posts that as a message
and the App submits the command, so a drain goes through the engine's rules like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Sparkline, Static

from waterspider_tui.core.models import HostStatus, TaskState
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.widgets.queue_table import text_signature

if TYPE_CHECKING:
    from waterspider_tui.core.state import Snapshot

SESSIONS_SHOWN = 4
"""Issue numbers listed on a host's row; more are counted (`+3`)."""
COMPACT_BELOW = 100
"""Narrower than this, each host takes two lines (load on the first, memory and sessions on the second)."""
CHECKING = "checking…"
"""The state of a configured host whose first probe has not answered yet."""
NARROW_BELOW = 60
"""Narrower than this (a panel beside the queues), one line again: state, slots, load and memory only."""


@dataclass(frozen=True)
class HostParts:
    """The texts and histories of one host's row."""

    head: Text
    state: Text
    load: Text
    memory: Text
    tail: Text
    load_history: tuple[float, ...]
    mem_history: tuple[float, ...]

    def signature(self) -> tuple[object, ...]:
        texts = (self.head, self.state, self.load, self.memory, self.tail)
        return (*(text_signature(text) for text in texts), self.load_history, self.mem_history)


def load_text(load: float) -> str:
    """A load average in at most four characters (`3.9`, `46.3`, `463`), so its column never cuts it."""
    return f"{load:.1f}" if load < 99.95 else f"{load:.0f}"


def sessions_by_host(snapshot: Snapshot, label: Callable[[str], str]) -> dict[str, tuple[str, ...]]:
    """The running sessions' issue labels per host, oldest session first."""
    running = sorted(
        (task for task in snapshot.tasks.values() if task.state is TaskState.RUNNING and task.session is not None),
        key=lambda task: task.session.started_at if task.session is not None else 0.0,
    )
    by_host: dict[str, list[str]] = {}
    for task in running:
        assert task.session is not None
        by_host.setdefault(task.session.host, []).append(label(task.key))
    return {host: tuple(labels) for host, labels in by_host.items()}


def host_parts(
    host: HostStatus, now: float, palette: Palette, *, drained: bool = False, sessions: tuple[str, ...] = (), checking: bool = False,
) -> HostParts:
    """What one host's row shows: a down host says why, a drained one says so, in their own colours;
    one not probed yet (`checking`) says it is being checked."""
    if checking:
        head = Text(no_wrap=True, end="")
        head.append("◌ ", palette.muted)
        head.append(f"{fmt.truncate(host.name, 10):<10} ", palette.bold)
        head.append(f"–/{host.slots_total}", palette.muted)
        state = Text(CHECKING, palette.muted, no_wrap=True, end="")
        return HostParts(head, state, Text(), Text(), Text(), (), ())
    if not host.reachable:
        symbol, word, style = "✘", "down", palette.error
    elif drained:
        symbol, word, style = "‖", "drained", palette.warning
    else:
        symbol, word, style = "●", "up", palette.running
    head = Text(no_wrap=True, end="")
    head.append(f"{symbol} ", style)
    name_style = palette.error if not host.reachable else palette.muted if drained else palette.bold
    head.append(f"{fmt.truncate(host.name, 10):<10} ", name_style)
    full = host.slots_used >= host.slots_total > 0
    head.append(f"{host.slots_used}/{host.slots_total}", palette.warning if full and host.reachable else "")
    state = Text(word, style, no_wrap=True, end="")
    load = Text(f"load {load_text(host.load)}" if host.load is not None and host.reachable else "load –", no_wrap=True, end="")
    memory = Text(f"mem {host.mem_percent:.0f}%" if host.mem_percent is not None and host.reachable else "mem –", no_wrap=True, end="")
    if host.reachable and host.mem_pressure in ("warning", "critical"):
        memory.stylize(palette.warning if host.mem_pressure == "warning" else palette.error)
    tail = Text(no_wrap=True, end="")
    if not host.reachable:
        tail.append(fmt.truncate(host.error or "unreachable", 60), palette.error)
    shown = " ".join(sessions[:SESSIONS_SHOWN]) + (f" +{len(sessions) - SESSIONS_SHOWN}" if len(sessions) > SESSIONS_SHOWN else "")
    if shown:
        tail.append(("  " if tail else "") + shown)
    elif host.reachable:
        tail.append("no sessions", palette.muted)
    if host.probed_at:
        tail.append(f"  {fmt.duration(now - host.probed_at)} ago", palette.muted)
    return HostParts(head, state, load, memory, tail, host.load_history, host.mem_history)


class HostRow(Horizontal):
    """A host's line; updated in place when a new probe arrives."""

    def __init__(self, host_name: str, parts: HostParts, *, down: bool, drained: bool, checking: bool = False) -> None:
        super().__init__(classes="host-row")
        self.host_name = host_name
        self.set_class(down, "-down")
        self.set_class(drained, "-drained")
        self.set_class(checking, "-checking")
        self._parts = parts
        self._shown = parts.signature()
        self._pending: tuple[HostParts, bool, bool, bool] | None = None
        """The latest parts when they arrived before this row was mounted."""

    def compose(self) -> ComposeResult:
        parts = self._parts
        yield Static(parts.head, classes="host-head")
        yield Static(parts.state, classes="host-state")
        yield Static(parts.load, classes="host-load")
        yield self._spark(parts.load_history, "host-spark host-load-spark")
        yield Static(parts.memory, classes="host-mem")
        yield self._spark(parts.mem_history, "host-spark host-mem-spark")
        yield Static(parts.tail, classes="host-tail")

    @staticmethod
    def _spark(history: tuple[float, ...], classes: str) -> Sparkline:
        spark = Sparkline(list(history), classes=classes)
        spark.visible = bool(history)
        return spark

    def on_mount(self) -> None:
        if self._pending is not None:
            self.show(*self._pending)

    def show(self, parts: HostParts, down: bool, drained: bool, checking: bool = False) -> None:
        """Update in place; nothing is touched when no text or history changed (no relayout)."""
        if not self.is_mounted:
            self._pending = (parts, down, drained, checking)
            return
        self.set_class(down, "-down")
        self.set_class(drained, "-drained")
        self.set_class(checking, "-checking")
        shown = parts.signature()
        if shown == self._shown:
            return
        self._shown, self._parts = shown, parts
        for name, text in (("head", parts.head), ("state", parts.state), ("load", parts.load), ("mem", parts.memory), ("tail", parts.tail)):
            self.query_one(f".host-{name}", Static).update(text)
        for name, history in (("load", parts.load_history), ("mem", parts.mem_history)):
            spark = self.query_one(f".host-{name}-spark", Sparkline)
            spark.visible = bool(history)
            if list(spark.data or []) != list(history):
                spark.data = list(history)


class HostsPanel(VerticalScroll):
    """All hosts, one row each, keyed by name; the highlighted one can be drained or restored."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "previous host", show=False),
        Binding("down,j", "move(1)", "next host", show=False),
        Binding("space", "drain", "drain host", id="host_drain", tooltip="No new sessions on the highlighted host; the running ones finish"),
        Binding("space", "restore", "restore host", id="host_restore", tooltip="The highlighted drained host takes new sessions again"),
    ]

    can_focus = True
    highlighted: reactive[str | None] = reactive(None, bindings=True)
    """The host the keys act on."""

    class DrainRequested(Message):
        """The operator asked to drain a host (`drain` True) or to restore it."""

        def __init__(self, host: str, drain: bool) -> None:
            super().__init__()
            self.host = host
            self.drain = drain

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, HostRow] = {}
        self._draining: frozenset[str] = frozenset()

    def update_hosts(
        self, hosts: dict[str, HostStatus], now: float, palette: Palette, *,
        draining: frozenset[str] = frozenset(), sessions: dict[str, tuple[str, ...]] | None = None,
        checking: frozenset[str] = frozenset(),
    ) -> None:
        """Show exactly these hosts, adding and removing rows only when the set changes; those in
        `checking` are configured but not probed yet."""
        sessions = sessions or {}
        if draining != self._draining:
            self._draining = frozenset(draining)
            self.refresh_bindings()
        for name in [name for name in self._rows if name not in hosts]:
            self._rows.pop(name).remove()
        names = sorted(hosts)
        for index, name in enumerate(names):
            host = hosts[name]
            drained = name in draining
            unprobed = name in checking and not drained  # a drain is the operator's word: it is shown first
            parts = host_parts(host, now, palette, drained=drained, sessions=sessions.get(name, ()), checking=unprobed)
            down = not host.reachable and not unprobed
            row = self._rows.get(name)
            if row is None:
                row = self._rows[name] = HostRow(name, parts, down=down, drained=drained, checking=unprobed)
                later = [self._rows[other] for other in names[index + 1 :] if other in self._rows and self._rows[other].parent]
                self.mount(row, before=later[0] if later else None)
            else:
                row.show(parts, down, drained, unprobed)
        if self.highlighted not in hosts:
            self.highlighted = names[0] if names else None

    def on_resize(self) -> None:
        width = self.size.width
        self.set_class(NARROW_BELOW <= width < COMPACT_BELOW, "-compact")
        self.set_class(width < NARROW_BELOW, "-narrow")

    def watch_highlighted(self, old: str | None, new: str | None) -> None:
        for name, row in self._rows.items():
            row.set_class(name == new, "-highlight")
        if new in self._rows:
            self.scroll_to_widget(self._rows[new], animate=False)

    def on_mount(self) -> None:
        self.watch_highlighted(None, self.highlighted)

    def action_move(self, step: int) -> None:
        names = sorted(self._rows)
        if not names:
            return
        index = names.index(self.highlighted) if self.highlighted in names else 0
        self.highlighted = names[max(0, min(len(names) - 1, index + step))]

    def action_drain(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.DrainRequested(self.highlighted, drain=True))

    def action_restore(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.DrainRequested(self.highlighted, drain=False))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`space` drains a host that takes sessions and restores a drained one; only the one that applies shows."""
        if action in ("drain", "restore"):
            if self.highlighted is None:
                return None
            return (self.highlighted in self._draining) == (action == "restore")
        return True
