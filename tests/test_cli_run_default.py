"""`waterspider` with options and no command runs: `waterspider --issues DIR` is `waterspider run --issues DIR`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from waterspider_tui.cli import cli


def test_options_without_a_command_go_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--issues", str(tmp_path / "nowhere"), "--no-ui"])
    assert result.exit_code == 2
    assert result.stderr == f"waterspider: issue folder {tmp_path / 'nowhere'} does not exist\n"


def test_the_groups_own_options_stay_its_own() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Commands:" in result.stdout and "`waterspider --issues DIR`" in result.stdout
    assert ", version " in CliRunner().invoke(cli, ["--version"]).stdout
