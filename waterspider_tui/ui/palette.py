"""Rich styles for task states, read from the current theme's variables (never hard-coded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme


def _color(variables: Mapping[str, str], name: str, fallback: str) -> Color:
    for key in (name, fallback):
        value = variables.get(key)
        if value:
            try:
                return Color.parse(value)
            except ColorParseError:
                continue
    return Color.parse(variables.get("foreground") or "white")


@dataclass(frozen=True)
class Palette:
    """Styles for the semantic roles the panels use; rebuilt when the theme changes.

    A theme may set `state-running`, `state-ready`, `state-blocked`, `state-failed`,
    `state-succeeded` and `state-critical` in its variables; otherwise the standard
    theme colours (success, primary, warning, error, accent) are used.
    """

    running: Style
    ready: Style
    blocked: Style
    failed: Style
    succeeded: Style
    critical: Style
    muted: Style
    warning: Style
    error: Style
    accent: Style
    text: Style
    bold: Style

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        """The palette of a theme, from the App's `theme_variables`."""
        background = _color(variables, "background", "surface")
        foreground = _color(variables, "foreground", "text")
        muted = background.blend(foreground, 0.6)

        def style(name: str, fallback: str, **extra: bool) -> Style:
            return Style(color=_color(variables, name, fallback).rich_color, **extra)

        return cls(
            running=style("state-running", "success"),
            ready=style("state-ready", "primary"),
            blocked=style("state-blocked", "warning"),
            failed=style("state-failed", "error"),
            succeeded=style("state-succeeded", "success"),
            critical=style("state-critical", "accent", bold=True),
            muted=Style(color=muted.rich_color),
            warning=style("warning", "warning"),
            error=style("error", "error"),
            accent=style("accent", "accent"),
            text=Style(color=foreground.rich_color),
            bold=Style(bold=True),
        )

    @classmethod
    def from_theme(cls, theme: Theme) -> Palette:
        """The palette of a Theme object, without waiting for the app's CSS to be refreshed."""
        return cls.from_variables({**theme.to_color_system().generate(), **theme.variables})

    @classmethod
    def plain(cls) -> Palette:
        """A palette without colours, for text renders outside an App (tests of pure helpers)."""
        empty = Style()
        return cls(*(empty for _ in range(11)), Style(bold=True))
