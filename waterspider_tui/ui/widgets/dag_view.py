"""The dependency graph of open work as text: layers left to right, edges as `← deps` lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.binding import Binding
from rich.cells import cell_len
from textual.geometry import Region, Size
from textual.message import Message
from textual.widget import Widget

from waterspider_tui.core.dag import DagLayout
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette

COLUMN_WIDTH = 30
GAP = 2
MARKERS = {"running": "▶", "ready": "●", "blocked": "◌", "blocked-failed": "◌", "paused": "‖", "failed": "✘", "cancelled": "⊘", "queued": "○",
           "succeeded": "✔"}


@dataclass(frozen=True)
class DagModel:
    """What the DAG widget shows: a layout plus the labels, titles and state classes of its nodes."""

    layout: DagLayout
    labels: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    note: str = ""
    """A line above the graph: how much of it is shown and why."""


def _style(palette: Palette, state: str) -> object:
    return {
        "running": palette.running, "ready": palette.ready, "blocked": palette.blocked,
        "paused": palette.muted, "failed": palette.failed, "blocked-failed": palette.failed, "cancelled": palette.failed,
        "succeeded": palette.succeeded,
    }.get(state, palette.text)


def _node_cell(model: DagModel, palette: Palette, key: str, critical: set[str], selected: str | None, related: set[str]) -> Text:
    state = model.states.get(key, "queued")
    label = model.labels.get(key, key)
    title = fmt.truncate(model.titles.get(key, ""), COLUMN_WIDTH - len(label) - 3)
    cell = Text(f"{MARKERS.get(state, '○')} ", _style(palette, state), end="")  # type: ignore[arg-type]
    cell.append(label, (palette.critical if key in critical else _style(palette, state)))  # type: ignore[arg-type]
    cell.append(f" {title}")
    cell.truncate(COLUMN_WIDTH, pad=True)
    if key == selected:
        cell.stylize("reverse")
    elif key in related:
        cell.stylize("underline")
    return cell


@dataclass(frozen=True)
class DagPicture:
    """The rendered graph, the columns the cursor moves through, and where each node sits."""

    text: Text
    columns: tuple[tuple[str, ...], ...]
    places: dict[str, tuple[int, int]]
    """Issue key -> (x, y) of its cell in the text."""


def render_dag(model: DagModel, palette: Palette, selected: str | None, width: int = 160) -> DagPicture:
    """The graph as text: connected work in layers, independent issues after, cycles, legend."""
    layout = model.layout
    critical = set(layout.critical)
    deps: dict[str, list[str]] = {}
    connected: set[str] = set()
    for source, target in layout.edges:
        deps.setdefault(target, []).append(source)
        connected.update((source, target))
    related = set(deps.get(selected or "", ())) | {t for s, t in layout.edges if s == selected}
    layers = [tuple(key for key in layer if key in connected) for layer in layout.layers]
    layers = [layer for layer in layers if layer]
    independent = [key for layer in layout.layers for key in layer if key not in connected]
    places: dict[str, tuple[int, int]] = {}
    columns: list[tuple[str, ...]] = list(layers)
    out = Text(end="", no_wrap=True, overflow="ignore")
    line = 0

    def newline(count: int = 1) -> None:
        nonlocal line
        out.append("\n" * count)
        line += count

    if model.note:
        out.append(model.note, palette.muted)
        newline(2)
    if not layout.layers and not layout.cycles:
        out.append("No open work.", palette.muted)
        return DagPicture(out, (), {})
    step = COLUMN_WIDTH + GAP
    if layers:
        header = Text(end="")
        for depth in range(len(layers)):
            header.append(f"depth {depth}".ljust(step), palette.muted + palette.bold)
        header.rstrip()
        out.append_text(header)
        newline()
        for row in range(max(len(layer) for layer in layers)):
            first, second = Text(end=""), Text(end="")
            for column, layer in enumerate(layers):
                if row >= len(layer):
                    first.append(" " * step)
                    second.append(" " * step)
                    continue
                key = layer[row]
                places[key] = (column * step, line)
                first.append_text(_node_cell(model, palette, key, critical, selected, related))
                first.append(" " * GAP)
                edge = Text("★ " if key in critical else "  ", palette.critical, end="")
                sources = deps.get(key, [])
                if sources:
                    edge.append("← ")
                    for index, source in enumerate(sources):
                        if index:
                            edge.append(" ")
                        style = palette.accent if selected in (source, key) else palette.muted
                        edge.append(model.labels.get(source, source), style)
                edge.truncate(COLUMN_WIDTH, overflow="ellipsis", pad=True)
                second.append_text(edge)
                second.append(" " * GAP)
            first.rstrip()
            second.rstrip()
            out.append_text(first)
            newline()
            out.append_text(second)
            newline()
    if independent:
        if layers:
            newline()
        out.append("Independent (no dependencies either way)", palette.muted + palette.bold)
        newline()
        per_row = max(1, width // step)
        for start in range(0, len(independent), per_row):
            row_text = Text(end="")
            for offset, key in enumerate(independent[start : start + per_row]):
                places[key] = (offset * step, line)
                row_text.append_text(_node_cell(model, palette, key, critical, selected, related))
                row_text.append(" " * GAP)
            row_text.rstrip()
            out.append_text(row_text)
            newline()
        columns += [tuple(independent[index::per_row]) for index in range(min(per_row, len(independent)))]
    if layout.critical:
        chain = " → ".join(model.labels.get(key, key) for key in layout.critical)
        newline()
        out.append("★ critical path: ", palette.critical)
        out.append(chain)
        newline()
    if layout.cycles:
        newline()
        out.append("Cycles (held until one dependency is removed):", palette.failed + palette.bold)
        newline()
        for cycle in layout.cycles:
            members = [model.labels.get(key, key) for key in cycle + cycle[:1]]
            out.append("  ↻ " + " → ".join(members), palette.failed)
            newline()
    newline()
    if "succeeded" in model.states.values():
        out.append("✔ done  ", palette.muted)
    out.append("▶ running  ● ready  ◌ waiting  ‖ paused or held  ✘ failed, and in its colour what waits on it  ★ critical path", palette.muted)
    return DagPicture(out, tuple(columns), places)


class DagView(Widget, can_focus=True):
    """Displays a DagModel and moves a node cursor with the arrow keys."""

    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
    ]
    DEFAULT_CSS = """
    DagView { width: auto; height: auto; text-wrap: nowrap; }
    """

    class NodeSelected(Message):
        """The operator moved the node cursor to `key`."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.picture: DagPicture | None = None
        self.selected: str | None = None

    def show(self, model: DagModel, palette: Palette, selected: str | None, width: int) -> None:
        """Draw a model with `selected` highlighted, for a screen `width` cells wide."""
        self.picture = render_dag(model, palette, selected, width)
        self.selected = selected
        self.refresh(layout=True)
        self.call_after_refresh(self._scroll_to_selected)

    def render(self) -> Text:
        return self.picture.text if self.picture is not None else Text("")

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """As wide as the widest line: the graph scrolls sideways instead of wrapping."""
        if self.picture is None:
            return 1
        return max((cell_len(line) for line in self.picture.text.plain.split("\n")), default=1)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.picture.text.plain.count("\n") + 1 if self.picture is not None else 1

    def _position(self) -> tuple[int, int] | None:
        if self.picture is None or self.selected is None:
            return None
        for column, keys in enumerate(self.picture.columns):
            if self.selected in keys:
                return column, keys.index(self.selected)
        return None

    def _scroll_to_selected(self) -> None:
        if self.picture is None or self.selected not in self.picture.places:
            return
        x, y = self.picture.places[self.selected]
        parent = self.parent
        if isinstance(parent, Widget):
            parent.scroll_to_region(Region(x, y, COLUMN_WIDTH, 2), animate=False, immediate=True)

    def action_move(self, dx: int, dy: int) -> None:
        if self.picture is None or not self.picture.columns:
            return
        columns = self.picture.columns
        position = self._position()
        if position is None:
            self.post_message(self.NodeSelected(columns[0][0]))
            return
        column, row = position
        column = min(max(column + dx, 0), len(columns) - 1)
        row = min(max(row, 0) + dy, len(columns[column]) - 1)
        self.post_message(self.NodeSelected(columns[column][max(row, 0)]))
