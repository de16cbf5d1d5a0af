"""Theme files (TOML data) read into textual Theme objects, with readable errors for bad ones."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

BUILTIN_THEME_DIR = Path(__file__).resolve().parent.parent / "themes"
"""The themes shipped with the package (dark default, light, high contrast): the repository's
top-level `themes/`, which `waterspider_tui/themes` points to and the wheel carries."""

DEFAULT_THEME = "waterspider-dark"

_COLOR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)
_NUMBER_FIELDS = ("luminosity_spread", "text_alpha")


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the field."""


@dataclass
class LoadedThemes:
    """Themes read from one or more folders, and one line per file that was skipped."""

    themes: dict[str, Theme] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _color(name: str, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{where}: {name} must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{where}: {name} = {value!r} is not a colour") from None
    return value


def theme_from_data(data: dict[str, Any], where: str) -> Theme:
    """A Theme from a parsed theme file; raises ThemeFileError naming what is wrong."""
    unknown = sorted(set(data) - {"name", "dark", "variables", *_COLOR_FIELDS, *_NUMBER_FIELDS})
    if unknown:
        raise ThemeFileError(f"{where}: unknown field {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{where}: a theme needs a name")
    if "primary" not in data:
        raise ThemeFileError(f"{where}: a theme needs a primary colour")
    colors = {key: _color(key, data[key], where) for key in _COLOR_FIELDS if key in data}
    numbers: dict[str, float] = {}
    for key in _NUMBER_FIELDS:
        if key in data:
            if isinstance(data[key], bool) or not isinstance(data[key], (int, float)):
                raise ThemeFileError(f"{where}: {key} must be a number")
            numbers[key] = float(data[key])
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{where}: dark must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in variables.items()
    ):
        raise ThemeFileError(f"{where}: variables must map names to strings")
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **colors, **numbers)  # type: ignore[arg-type]


def load_theme_file(path: Path) -> Theme:
    """Read one theme file; raises ThemeFileError with the file's name in the message."""
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ThemeFileError(f"{where}: cannot read ({error.strerror or error})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ThemeFileError(f"{where}: not valid TOML ({error})") from None
    return theme_from_data(data, where)


def load_themes(*folders: Path | None) -> LoadedThemes:
    """Every `*.toml` theme in the folders, in order; later folders override earlier names."""
    loaded = LoadedThemes()
    for folder in folders:
        if folder is None:
            continue
        if not folder.is_dir():
            loaded.errors.append(f"theme folder {folder.name!r} not found")
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as error:
                loaded.errors.append(str(error))
                continue
            loaded.themes[theme.name] = theme
    return loaded


def theme_names(theme_dir: Path | None = None) -> list[str]:
    """The themes a control center can use: the shipped ones, the operator's, then Textual's own."""
    from textual.theme import BUILTIN_THEMES

    return [*load_themes(BUILTIN_THEME_DIR, theme_dir).themes, *BUILTIN_THEMES]


def unknown_theme(name: str, theme_dir: Path | None = None) -> str | None:
    """One line when `name` is no theme the control center has, with the nearest name; None when it is."""
    import difflib

    names = theme_names(theme_dir)
    if name in names:
        return None
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    shipped = ", ".join(load_themes(BUILTIN_THEME_DIR, theme_dir).themes)
    return f"no theme {name!r}" + (f" (did you mean {close[0]}?)" if close else f"; the themes are {shipped} and Textual's own")
