"""The `[ui]` settings checked before a run starts: a bad theme or keymap is one line and exit 2,
not a notice in a control center that then runs with something else."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from waterspider_tui.config import ConfigError
from waterspider_tui.ui.key_map import check_keymap
from waterspider_tui.ui.themes import unknown_theme


def check_ui_settings(theme: str | None, theme_dir: Path | None, keymap: Mapping[str, object]) -> None:
    """Raise ConfigError naming the first bad `[ui]` setting (`--theme` sets ui.theme)."""
    if theme:
        problem = unknown_theme(theme, theme_dir)
        if problem:
            raise ConfigError(f"bad setting ui.theme: {problem}")
    check_keymap(keymap)
