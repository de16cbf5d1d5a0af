"""Settings a typo or a loose type would otherwise let through: misspelled sections in the
environment, booleans and strings where a number belongs, agent options checked by every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from waterspider_tui.config import ConfigError, check_agent_options, load_settings


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waterspider.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_misspelled_section_in_the_environment_is_refused_with_did_you_mean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATERSPIDER_SCHEDULR__CAPACITY", "3")
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, "[agent]\nkind = 'simulated'\n"))
    message = str(raised.value)
    assert "WATERSPIDER_SCHEDULR__CAPACITY" in message and "unknown section" in message
    assert "did you mean WATERSPIDER_SCHEDULER__CAPACITY?" in message


def test_variables_that_are_not_settings_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATERSPIDER_SLACK_WEBHOOK_URL", "https://hooks.example/x")
    monkeypatch.setenv("WATERSPIDER_ISSUE_NUMBER", "4")
    monkeypatch.setenv("WATERSPIDER_SCHEDULER__CAPACITY", "3")
    assert load_settings(write_config(tmp_path, "[agent]\nkind = 'simulated'\n")).scheduler.capacity == 3


@pytest.mark.parametrize(("line", "shown", "wanted"), [
    ("capacity = true", "true", "a whole number"),
    ("capacity = \"3\"", "'3'", "a whole number"),
    ("weight_label = false", "false", "a number"),
])
def test_a_number_setting_takes_only_a_number_in_the_file(tmp_path: Path, line: str, shown: str, wanted: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, f"[scheduler]\n{line}\n"))
    setting = line.split(" =")[0]
    assert str(raised.value) == f"bad setting scheduler.{setting} in {tmp_path / 'waterspider.toml'}: {shown} is not {wanted}"


def test_a_number_in_a_list_of_hosts_is_checked_too(tmp_path: Path) -> None:
    text = "[[hosts]]\nname = 'mini'\naddress = '127.0.0.1'\nrepo_path = '/srv/repo'\nslots = true\n"
    with pytest.raises(ConfigError, match=r"bad setting hosts\.0\.slots .*: true is not a whole number"):
        load_settings(write_config(tmp_path, text))


def test_a_whole_number_is_a_number_where_a_fraction_is_allowed(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, "[scheduler]\ncapacity = 4\nweight_label = 1\n"))
    assert settings.scheduler.capacity == 4 and settings.scheduler.weight_label == 1


@pytest.mark.parametrize(("options", "message"), [
    ("{durtion_s = 3}", "simulated agent: unknown option durtion_s (did you mean duration_s?)"),
    ("{duration_s = true}", "simulated agent: option duration_s: true is not a number"),
    ("{steps = \"3\"}", "simulated agent: option steps: '3' is not a whole number"),
])
def test_agent_options_are_checked_as_run_checks_them(tmp_path: Path, options: str, message: str) -> None:
    path = write_config(tmp_path, f"[agent]\nkind = 'simulated'\noptions = {options}\n")
    with pytest.raises(ConfigError) as raised:
        check_agent_options(load_settings(path), path)
    assert str(raised.value) == f"bad setting agent.options in {path}: {message}"


def test_plan_refuses_a_misspelled_agent_option_as_run_does(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[agent]\nkind = 'simulated'\noptions = {durtion_s = 3}\n")
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "001.md").write_text("---\ntitle: one\n---\n", encoding="utf-8")
    planned = subprocess.run([sys.executable, "-m", "waterspider_tui", "plan", "--config", str(config), "--issues", str(issues)],
                             capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert "did you mean duration_s?" in planned.stderr
