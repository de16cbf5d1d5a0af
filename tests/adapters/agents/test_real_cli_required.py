"""`.ci/run` sets WATERSPIDER_REQUIRE_REAL_CLIS=1: then a real-CLI test module whose CLI cannot run fails instead of skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODEX_TESTS = Path(__file__).with_name("test_agent_codex_cli.py")


def _collect_codex_tests(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Collect and run the Codex CLI tests' skip decisions with no Codex to be found."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("WATERSPIDER_")}
    environment.update(WATERSPIDER_CODEX_BIN=str(tmp_path / "no-such-codex"), **env)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(CODEX_TESTS), "-k", "session_solves"]
    return subprocess.run(argv, capture_output=True, text=True, env=environment, cwd=Path(__file__).parents[3], timeout=120)


def test_without_the_variable_a_missing_cli_skips(tmp_path: Path) -> None:
    done = _collect_codex_tests(tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 skipped" in done.stdout and "the Codex CLI at" in done.stdout


def test_with_the_variable_a_missing_cli_fails(tmp_path: Path) -> None:
    done = _collect_codex_tests(tmp_path, WATERSPIDER_REQUIRE_REAL_CLIS="1")
    assert done.returncode != 0
    assert "skipped" not in done.stdout
    assert "WATERSPIDER_REQUIRE_REAL_CLIS=1: the real-CLI tests must run, not skip" in done.stdout, done.stdout[-2000:]
