"""Theme files (shipped, operator's, broken) and the command palette's actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.core import commands as cmd
from waterspider_tui.ui.commands import palette_entries
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.screens.modals import ConfirmScreen
from waterspider_tui.ui.themes import BUILTIN_THEME_DIR, DEFAULT_THEME, ThemeFileError, load_theme_file, load_themes

from .pilots import notifications, settle, started, table
from .scenarios import key

OPERATOR_THEME = """
name = "night-shift"
dark = true
primary = "#FF8800"
background = "#101010"
[variables]
state-running = "#00FF88"
"""


def test_the_shipped_themes_load() -> None:
    loaded = load_themes(BUILTIN_THEME_DIR)
    assert loaded.errors == []
    assert {"waterspider-dark", "waterspider-light", "waterspider-high-contrast"} <= set(loaded.themes)
    assert loaded.themes["waterspider-light"].dark is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name = 'x'\nprimary = 'not-a-colour'", "bad.toml: primary = 'not-a-colour' is not a colour"),
        ("primary = '#FFFFFF'", "bad.toml: a theme needs a name"),
        ("name = 'x'\nprimary = '#FFFFFF'\nsparkle = true", "bad.toml: unknown field 'sparkle'"),
        ("name = 'x'\nprimary = '#FFFFFF'\ndark = 'yes'", "bad.toml: dark must be true or false"),
        ("name = [", "bad.toml: not valid TOML"),
    ],
)
def test_a_bad_theme_file_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ThemeFileError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        load_theme_file(path)


def test_state_colours_come_from_theme_variables() -> None:
    palette = Palette.from_variables({"foreground": "#FFFFFF", "background": "#000000", "success": "#00FF00", "state-running": "#123456"})
    assert palette.running.color is not None and palette.running.color.triplet is not None
    assert palette.running.color.triplet.hex == "#123456"
    assert palette.succeeded.color is not None and palette.succeeded.color.triplet is not None
    assert palette.succeeded.color.triplet.hex == "#00ff00"


async def test_an_operator_theme_is_used_and_a_bad_one_falls_back_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "night.toml").write_text(OPERATOR_THEME)
    (tmp_path / "broken.toml").write_text("name = 'broken'\nprimary = 'mauve-ish'")
    async with started(theme="night-shift", theme_dir=tmp_path) as (app, engine, pilot):
        assert app.theme == "night-shift"
        assert "Theme file skipped: broken.toml: primary = 'mauve-ish' is not a colour" in notifications(app)
        assert app.palette.running.color is not None and app.palette.running.color.triplet is not None
        assert app.palette.running.color.triplet.hex == "#00ff88"
    async with started(theme="broken", theme_dir=tmp_path) as (app, engine, pilot):
        assert app.theme == DEFAULT_THEME
        assert f"Theme 'broken' is not available; using {DEFAULT_THEME}." in notifications(app)


async def test_switching_theme_restyles_the_rows() -> None:
    async with started() as (app, engine, pilot):
        before = table(app, "running").get_cell(key(444), "phase").style
        app.theme = "waterspider-light"
        await pilot.pause()
        await pilot.pause()
        assert table(app, "running").get_cell(key(444), "phase").style != before


async def test_the_palette_offers_actions_that_apply_by_name() -> None:
    async with started() as (app, engine, pilot):
        names = {text for text, _, _ in palette_entries(app)}
        assert {"pause dispatcher", "requeue #441", "requeue #442", "cancel #443", "pause #450", "pin #450",
                "unpin #452", "resume #462", "bump #453 up", "jump to #470", "details #455", "show DAG"} <= names
        assert "requeue #443" not in names and "cancel #450" not in names


async def test_a_palette_command_is_submitted() -> None:
    async with started() as (app, engine, pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"requeue #441")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert engine.submitted == [cmd.Requeue(issue=key(441))]
        assert "#441 requeued" in notifications(app)


async def test_palette_cancel_still_asks_and_jump_moves_the_cursor() -> None:
    async with started(size=(80, 24)) as (app, engine, pilot):
        entries = {text: callback for text, _, callback in palette_entries(app)}
        entries["cancel #444"]()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        entries["jump to #470"]()
        await pilot.pause()
        assert app.screen.current_panel == "blocked"
        assert table(app, "blocked").selected_key == key(470)
        assert app.selected_issue == key(470)
        assert engine.submitted == []


def test_the_builtin_themes_come_from_the_top_level_themes_folder() -> None:
    from waterspider_tui.ui.themes import BUILTIN_THEME_DIR

    top_level = Path(__file__).resolve().parents[2] / "themes"
    assert BUILTIN_THEME_DIR.resolve() == top_level
    assert sorted(path.name for path in top_level.glob("*.toml")) == [
        "waterspider-dark.toml", "waterspider-high-contrast.toml", "waterspider-light.toml",
    ]


async def test_palette_drains_a_host_and_restores_it_by_the_real_rules() -> None:
    async with started(size=(120, 36)) as (app, engine, pilot):
        host = sorted(app.view.snapshot.hosts)[0]  # type: ignore[union-attr]
        entries = {text: callback for text, _, callback in palette_entries(app)}
        entries[f"drain host {host}"]()
        await settle(pilot)
        assert engine.submitted == [cmd.DrainHost(host=host)]
        assert f"{host} drained: no new sessions there" in notifications(app)[-1]
        entries = {text: callback for text, _, callback in palette_entries(app)}
        assert f"drain host {host}" not in entries
        entries[f"restore host {host}"]()
        await settle(pilot)
        assert notifications(app)[-1] == f"{host} takes new sessions again"
