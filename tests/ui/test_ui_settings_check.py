"""`[ui]` settings that cannot work stop the run before it starts: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import run_cli
from waterspider_tui.config import ConfigError
from waterspider_tui.ui.key_map import check_keymap
from waterspider_tui.ui.themes import unknown_theme


def test_a_misspelt_binding_id_is_refused_with_the_nearest_id() -> None:
    with pytest.raises(ConfigError, match=r"ui.keymap: no key has the id 'pause_dispatchr' \(did you mean pause_dispatcher\?\)"):
        check_keymap({"pause_dispatchr": "z"})
    with pytest.raises(ConfigError, match=r"no key has the id 'pausee' \(did you mean pause_"):
        check_keymap({"pausee": "z"})
    with pytest.raises(ConfigError, match=r"the ids are in the help screen"):
        check_keymap({"frobnicate": "z"})


def test_a_key_another_action_keeps_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"ui.keymap.shell: 'q' is already the key of quit \(quit\) in the control center; remap quit too"):
        check_keymap({"shell": "q"})
    with pytest.raises(ConfigError, match=r"ui.keymap.pause_dispatcher: '\?' is already the key of help"):
        check_keymap({"pause_dispatcher": "?"})
    with pytest.raises(ConfigError, match=r"ui.keymap.log_follow: 'n' is already the key of log_next_match"):
        check_keymap({"log_follow": "n"})


def test_keys_moved_together_or_between_screens_are_fine() -> None:
    check_keymap({"shell": "q", "quit": "Q"})
    check_keymap({"pause_dispatcher": "P,f5", "help": "f1"})
    check_keymap({"log_follow": "p"}), "p pauses dispatch in the control center, not in the log pager"
    check_keymap({"host_drain": "z"})
    with pytest.raises(ConfigError, match="give the keys as a string"):
        check_keymap({"shell": ""})


def test_an_unknown_theme_gives_the_nearest_name() -> None:
    assert unknown_theme("waterspider-drak") == "no theme 'waterspider-drak' (did you mean waterspider-dark?)"
    assert unknown_theme("nope") == ("no theme 'nope'; the themes are waterspider-dark, waterspider-high-contrast, "
                                     "waterspider-light and Textual's own")
    assert unknown_theme("waterspider-light") is None and unknown_theme("nord") is None


def test_a_theme_of_the_operator_counts(tmp_path: Path) -> None:
    (tmp_path / "night.toml").write_text("name = 'night-shift'\nprimary = '#00ff88'\n")
    assert unknown_theme("night-shift", tmp_path) is None
    assert unknown_theme("night-shift") is not None


@pytest.mark.parametrize(("args", "config", "message"), [
    (["--theme", "nope"], "", "waterspider: bad setting ui.theme: no theme 'nope'; the themes are"),
    (["--theme", "waterspider-ligth"], "", "(did you mean waterspider-light?)"),
    ([], '[ui]\nkeymap = { pausee = "z" }\n', "bad setting ui.keymap: no key has the id 'pausee'"),
    ([], '[ui]\nkeymap = { shell = "q" }\n', "bad setting ui.keymap.shell: 'q' is already the key of quit"),
])
def test_the_run_exits_2_with_one_line_before_anything_starts(tmp_path: Path, args: list[str], config: str, message: str) -> None:
    settings = tmp_path / "waterspider.toml"
    settings.write_text(config)
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "1.md").write_text("# Fix the widget\n")
    result = run_cli("run", "--issues", str(issues), "--repo-path", str(tmp_path), "--config", str(settings), *args)
    assert result.returncode == 2
    problem = result.stderr.strip().splitlines()
    assert len(problem) == 1 and message in problem[0], result.stderr
    assert not (tmp_path / ".waterspider").exists(), "no run started"
