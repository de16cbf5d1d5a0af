"""The keys line at the bottom: every shown binding, greyed when it does not apply, clickable.

One widget drawing one line, instead of Textual's Footer (a widget per key, rebuilt on every
bindings change): the bindings change with each selection, and the control center redraws
often, so the cheaper line keeps it responsive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

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
        compact = self.size.width < 100
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        seen: set[tuple[str, str]] = set()
        palette_key = ""
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if key == self.app.COMMAND_PALETTE_BINDING:
                palette_key = self.app.get_key_display(binding)
                continue
            if not binding.show or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            namespace = "app" if active.node is self.app else "screen"
            click = Style(meta={"@click": f"{namespace}.{binding.action}"}) if active.enabled else Style()
            key_style = palette.bold if active.enabled else palette.muted
            text.append(f"{'' if compact else ' '}{self.app.get_key_display(binding)} ", key_style + click)
            text.append(f"{binding.description}{' ' if compact else '  '}", palette.text if active.enabled else palette.muted)
        if palette_key and not compact:
            room = self.size.width - text.cell_len - len(palette_key) - 9
            if room > 0:
                text.append(" " * room)
                text.append(f"{palette_key} ", palette.ready + palette.bold + Style(meta={"@click": "app.command_palette"}))
                text.append("palette")
        return text
