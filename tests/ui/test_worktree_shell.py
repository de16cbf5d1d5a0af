"""The shell behind `s` and the browser behind `o`, as real processes: `$SHELL` runs in the worktree
and returns its exit code; `$BROWSER` gets the address (`%s` or last), a missing one is reported."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.waiting import until
from waterspider_tui.ui.browser import open_in_browser
from waterspider_tui.ui.shell import run_shell


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_the_shell_runs_in_the_worktree_and_its_exit_code_comes_back(tmp_path: Path) -> None:
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    seen = tmp_path / "seen.txt"
    shell = _script(tmp_path / "shell.sh", f'pwd > "{seen}"\necho "$WATERSPIDER_WORKTREE" >> "{seen}"\nexit 3\n')
    assert run_shell(str(worktree), {"SHELL": str(shell), "PATH": "/usr/bin:/bin"}) == 3
    assert seen.read_text().splitlines() == [str(worktree), str(worktree)]


def test_browser_gets_the_address_in_place_of_percent_s(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = _script(tmp_path / "browser.sh", f'printf "%s|%s" "$1" "$2" > "{opened}"\n')
    url = "https://github.com/acme/widgets/pull/501"
    assert open_in_browser(url, {"BROWSER": f"{browser} --new-tab %s"})
    asyncio.run(until(lambda: opened.exists() and opened.read_text()))
    assert opened.read_text() == f"--new-tab|{url}"


def test_a_browser_that_cannot_start_is_skipped_for_the_next_one(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = _script(tmp_path / "browser.sh", f'printf "%s" "$1" > "{opened}"\n')
    assert open_in_browser("https://example.invalid/pr/1", {"BROWSER": f"/nonexistent/firefox:{browser}"})
    asyncio.run(until(lambda: opened.exists() and opened.read_text()))
    assert opened.read_text() == "https://example.invalid/pr/1"
    assert not open_in_browser("https://example.invalid/pr/1", {"BROWSER": "/nonexistent/firefox"})
