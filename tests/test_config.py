"""Settings: the TOML file, WATERSPIDER_SECTION__FIELD env, init overrides, and one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from waterspider_tui.config import ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "waterspider.toml"

FILE = """\
[issues]
dir = "backlog"
repo_name = "team"

[github]
repos = ["acme/widgets", "acme/gears"]
trusted_logins = ["ada"]

[scheduler]
capacity = 3
weight_label = 0.6
label_weights = { P0 = 0.9, P1 = 0.5 }

[agent]
kind = "codex"
options = { model = "o4", max_turns = 12 }

[sessions]
max_attempts = 4
daily_budget_usd = 25.5
on_exit = "stop"

[workspace]
base_branch = "develop"

[store]
path = "state/ws.db"

[ui]
theme = "waterspider-light"
keymap = { pause_all = "P" }
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No WATERSPIDER_* variables from the outside, and no ./waterspider.toml but the test's own."""
    for name in list(os.environ):
        if name.upper().startswith("WATERSPIDER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "ws.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None)
    assert settings.scheduler.capacity == 5
    assert settings.agent.kind == "claude"
    assert settings.issues.dir is None
    assert settings.store_path() == Path(".") / ".waterspider" / "state.db"
    assert settings.sessions.niceness == 15
    core = settings.scheduler.to_core()
    assert (core.capacity, core.priority.weight_label, dict(core.priority.label_weights)) == (
        5, 0.5, {"P0": 1.0, "P1": 0.7, "P2": 0.4, "P3": 0.1},
    )


def test_values_from_the_toml_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FILE))
    assert settings.issues.dir == Path("backlog")
    assert settings.issues.repo_name == "team"
    assert settings.github.repos == ["acme/widgets", "acme/gears"]
    assert settings.github.trusted_logins == ["ada"]
    assert settings.scheduler.capacity == 3
    assert settings.scheduler.weight_label == 0.6
    assert settings.scheduler.weight_time == 0.2, "fields the file leaves out keep their defaults"
    assert settings.scheduler.label_weights == {"P0": 0.9, "P1": 0.5}
    assert settings.agent.kind == "codex"
    assert settings.agent.options == {"model": "o4", "max_turns": 12}
    assert (settings.sessions.max_attempts, settings.sessions.daily_budget_usd, settings.sessions.on_exit) == (4, 25.5, "stop")
    assert settings.workspace.base_branch == "develop"
    assert settings.store_path() == Path("state/ws.db")
    assert settings.ui.keymap == {"pause_all": "P"}
    core = settings.scheduler.to_core()
    assert (core.capacity, core.priority.weight_label, dict(core.priority.label_weights)) == (3, 0.6, {"P0": 0.9, "P1": 0.5})


def test_waterspider_toml_in_the_current_folder_is_read_by_default(tmp_path: Path) -> None:
    write(tmp_path, "[scheduler]\ncapacity = 2\n", name="waterspider.toml")
    assert load_settings(None).scheduler.capacity == 2


def test_env_overrides_the_file_field_by_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, FILE)
    monkeypatch.setenv("WATERSPIDER_SCHEDULER__CAPACITY", "7")
    monkeypatch.setenv("WATERSPIDER_AGENT__KIND", "simulated")
    monkeypatch.setenv("WATERSPIDER_GITHUB__REPOS", '["env/one"]')
    monkeypatch.setenv("WATERSPIDER_SESSIONS__DAILY_BUDGET_USD", "3.5")
    settings = load_settings(config)
    assert settings.scheduler.capacity == 7
    assert settings.scheduler.weight_label == 0.6, "the file's other fields in the same section stay"
    assert settings.agent.kind == "simulated"
    assert settings.agent.options == {"model": "o4", "max_turns": 12}
    assert settings.github.repos == ["env/one"]
    assert settings.sessions.daily_budget_usd == 3.5
    assert settings.sessions.max_attempts == 4


def test_env_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("waterspider_scheduler__capacity", "9")
    assert load_settings(None).scheduler.capacity == 9


def test_init_overrides_beat_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, FILE)
    monkeypatch.setenv("WATERSPIDER_SCHEDULER__CAPACITY", "7")
    monkeypatch.setenv("WATERSPIDER_AGENT__KIND", "simulated")
    settings = load_settings(config, {"scheduler": {"capacity": 11}, "issues": {"dir": tmp_path / "flag"}})
    assert settings.scheduler.capacity == 11
    assert settings.scheduler.weight_label == 0.6
    assert settings.agent.kind == "simulated", "env still beats the file where no override is given"
    assert settings.issues.dir == tmp_path / "flag"
    assert settings.issues.repo_name == "team"


def test_load_settings_leaves_no_file_behind_for_the_next_call(tmp_path: Path) -> None:
    load_settings(write(tmp_path, FILE))
    assert Settings().scheduler.capacity == 5
    assert load_settings(None).scheduler.capacity == 5


def test_the_example_file_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.agent.kind == "simulated"
    assert settings.scheduler.capacity == 5


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_settings(tmp_path / "nope.toml")
    assert str(caught.value) == f"config file {tmp_path / 'nope.toml'} does not exist"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("[scheduler]\ncapacity = 0\n", "scheduler.capacity", "0 is too small: it must be at least 1"),
        ("[scheduler]\ncapacity = \"lots\"\n", "scheduler.capacity", "'lots' is not a whole number"),
        ("[scheduler]\nweight_label = -1\n", "scheduler.weight_label", "-1 is too small: it must be at least 0"),
        ("[agent]\nkind = \"gpt\"\n", "agent.kind", "'gpt' is not one of claude, codex, command, simulated"),
        ("[agent]\nkind = \"clade\"\n", "agent.kind", "'clade' is not one of claude, codex, command, simulated (did you mean claude?)"),
        ("[github]\nrepos = [\"no-slash\"]\n", "github.repos", "repository 'no-slash' is not owner/name"),
        ("[github]\nrepos = \"acme/widgets\"\n", "github.repos", "'acme/widgets' is not a list, like [\"a\", \"b\"]"),
        ("[sessions]\non_exit = \"explode\"\n", "sessions.on_exit", "'explode' is not one of leave, stop"),
        ("[sessions]\nniceness = 25\n", "sessions.niceness", "25 is too large: it must be at most 19"),
        ("[schedular]\ncapacity = 2\n", "schedular", "unknown section (did you mean scheduler?)"),
        ("[scheduler]\ncapcity = 2\n", "scheduler.capcity", "unknown key (did you mean capacity?)"),
        ("[scheduler]\nzzz = 2\n", "scheduler.zzz", "unknown key; the keys of [scheduler] are capacity, weight_label,"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_field_and_the_file(tmp_path: Path, text: str, field: str, problem: str) -> None:
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.startswith(f"bad setting {field} in {config}: ")
    assert problem in message
    assert "\n" not in message


def test_a_bad_env_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, FILE)
    monkeypatch.setenv("WATERSPIDER_SCHEDULER__CAPACITY", "lots")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.startswith("bad setting scheduler.capacity from WATERSPIDER_SCHEDULER__CAPACITY: ")
    assert "\n" not in message


def test_an_env_table_that_is_not_json_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATERSPIDER_GITHUB__REPOS", "acme/widgets")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    message = str(caught.value)
    assert "github" in message and "None" not in message and "\n" not in message


def test_a_bad_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bad setting scheduler.capacity: "):
        load_settings(None, {"scheduler": {"capacity": 0}})


def test_toml_syntax_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    config = write(tmp_path, "[scheduler\ncapacity = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.startswith(f"cannot read {config}: ")
    assert "line 1" in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("[pipeline]\nsteps = [\"gate\"]\n[pipeline.gate]\ncommands = [3]\n", "pipeline.gate.commands.0", "3 is not a table"),
        ("[pipeline.gate]\nmax_rounds = -1\n", "pipeline.gate.max_rounds", "-1 is too small: it must be at least 0"),
        ("[pipeline.gate]\ncomands = []\n", "pipeline.gate.comands", "unknown key (did you mean commands?)"),
        ("[pipeline.push]\nforce = \"yes please\"\n", "pipeline.push.force", "'yes please' is not true or false"),
        ("[pipeline.pull_request]\ndraft = \"maybe\"\n", "pipeline.pull_request.draft", "'maybe' is not true or false"),
    ],
)
def test_a_bad_step_option_is_refused_when_the_file_is_read(tmp_path: Path, text: str, field: str, problem: str) -> None:
    """Every command reading the file (`hosts check` too) refuses it in the same words as any other setting."""
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.startswith(f"bad setting {field} in {config}: "), message
    assert problem in message
    assert "\n" not in message


def test_a_gate_command_may_be_a_plain_shell_line(tmp_path: Path) -> None:
    from waterspider_tui.adapters.pipeline.gate import GateOptions

    config = write(tmp_path, '[pipeline]\nsteps = ["gate"]\n[pipeline.gate]\ncommands = ["test -f README.md", { name = "lint", run = ["ruff", "check"] }]\n')
    settings = load_settings(config)
    commands = GateOptions.model_validate(settings.pipeline.gate).commands
    assert [(command.name, command.run) for command in commands] == [("test -f README.md", "test -f README.md"), ("lint", ["ruff", "check"])]
