"""The keys line at the bottom: every shown binding, greyed when it does not apply, clickable.

One widget drawing one line, instead of Textual's Footer (a widget per key, rebuilt on every
bindings change): the bindings change with each selection, and the control center redraws
often, so the cheaper line keeps it responsive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Input

from waterspider_tui.ui.palette import Palette

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyBar(Widget):
    """Keys and what they do, read from the screen's active bindings (so keymaps show).

    An applicable key is a link that runs its action when clicked; links take their colour
    from the `link-*` styles.
    """

    DEFAULT_CSS = """
    KeyBar {
        height: 1; dock: bottom; background: $panel;
        link-color: $primary; link-style: bold; link-background: $panel;
        link-color-hover: $primary; link-background-hover: $primary 20%; link-style-hover: bold;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        palette: Palette = getattr(self.app, "palette", None) or Palette.plain()
        width = self.size.width
        entries, palette_key = self._entries()
        compact = width < 100
        shown = fit_by_priority(entries, width - (len(palette_key) + 9 if palette_key and not compact else 0), compact)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for entry in entries:
            if entry not in shown:
                continue
            click = Style(meta={"@click": entry.click}) if entry.enabled else Style()
            text.append(f"{'' if compact else ' '}{entry.key} ", (palette.bold if entry.enabled else palette.muted) + click)
            text.append(f"{entry.description}{' ' if compact else '  '}", palette.text if entry.enabled else palette.muted)
        if palette_key and not compact:
            room = width - text.cell_len - len(palette_key) - 9
            if room >= 0:
                text.append(" " * room)
                text.append(f"{palette_key} ", palette.ready + palette.bold + Style(meta={"@click": "app.command_palette"}))
                text.append("palette")
        return text

    def _entries(self) -> tuple[list[KeyEntry], str]:
        """The shown bindings in their order, each once, and the command palette's key."""
        entries: list[KeyEntry] = []
        seen: set[tuple[str, str]] = set()
        palette_key = ""
        # Keys typed into a box are text: the app's keys are not offered meanwhile.
        typing = isinstance(self.screen.focused, Input)
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if key == self.app.COMMAND_PALETTE_BINDING:
                palette_key = self.app.get_key_display(binding)
                continue
            if not binding.show or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            namespace = "app" if active.node is self.app else "screen"
            display = self.app.get_key_display(binding)
            if typing and (namespace == "app" or _typed(display)):
                continue
            rank = _rank(binding.action, namespace)
            entries.append(KeyEntry(display, binding.description, active.enabled, f"{namespace}.{binding.action}", rank))
        return entries, palette_key


@dataclass(frozen=True)
class KeyEntry:
    """One key of the bar: what is typed, what it does, whether it applies, and how much it matters."""

    key: str
    description: str
    enabled: bool
    click: str
    rank: int
    """Lower is kept longer when the bar is too narrow for every key."""


KEPT_FIRST = ("quit", "help", "detail", "open_log", "toggle_dispatcher", "requeue", "cancel_session", "toggle_issue", "filter", "show_dag")
"""The app's actions by how long they stay on a narrow bar: quit and help always, then a
screen's own keys, then the rest in this order; the ones not listed (bumps, pin, problems)
are the first to go."""


def _typed(display: str) -> bool:
    """A key a text box takes as text (`/`, `n`), so it does not act while one has the focus."""
    return len(display) == 1 and display.isascii() and display.isprintable()


def _rank(action: str, namespace: str) -> int:
    """How long a key stays on a narrow bar (lower stays longer)."""
    name = action.partition("(")[0]
    if name in ("quit", "help"):
        return KEPT_FIRST.index(name)
    if namespace == "screen":
        return 2
    return 3 + (KEPT_FIRST.index(name) if name in KEPT_FIRST else len(KEPT_FIRST))


def fit_by_priority(entries: list[KeyEntry], width: int, compact: bool) -> list[KeyEntry]:
    """The entries that fit in `width` cells, dropping the least important first (ties: the later one)."""
    def cells(entry: KeyEntry) -> int:
        return len(entry.key) + len(entry.description) + (2 if compact else 4)

    kept = list(entries)
    total = sum(cells(entry) for entry in kept)
    order = sorted(range(len(entries)), key=lambda index: (entries[index].rank, index), reverse=True)
    for index in order:
        if total <= width:
            break
        total -= cells(entries[index])
        kept.remove(entries[index])
    return kept
