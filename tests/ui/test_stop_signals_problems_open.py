"""The real command on a pseudo-terminal with the Problems list (a pushed screen) open when a stop
signal comes: SIGHUP after the terminal went away, and SIGTERM from another shell, end it as
quitting does (exit 130), and the store's lock goes with the process, not before it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import empty_project, run_on_terminal
from tests.waiting import WAIT_S
from waterspider_tui.exit_codes import EXIT_INTERRUPTED

_CYCLE = {"001.md": "---\nnumber: 1\ntitle: One\ndepends_on: [2]\n---\nb\n", "002.md": "---\nnumber: 2\ntitle: Two\ndepends_on: [1]\n---\nb\n"}
_REDRAWS = 40
"""Problems list closed and opened again this many times while nobody reads the terminal: more
screens than Textual's output queue holds (30 writes), so its writer is behind when the terminal goes."""


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    repo, issues = empty_project(tmp_path)
    for name, text in _CYCLE.items():
        (issues / name).write_text(text)
    process, master = run_on_terminal("run", "--issues", str(issues), "--repo-path", str(repo), "--store", str(tmp_path / "state.db"), "--agent", "simulated")
    return process, master


def _read_until(master: int, output: bytearray, wanted: bytes) -> bool:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and wanted not in output:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                output += os.read(master, 65536)
            except OSError:
                return False
    return wanted in output


def _read_while_running(master: int, process: subprocess.Popen[bytes]) -> None:
    """Read what it draws, as a terminal does, until it exits."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


def _open_problems_and_fill_the_terminal(master: int) -> None:
    output = bytearray()
    assert _read_until(master, output, "⚠".encode()), bytes(output[-2000:])  # the header counts the cycle
    os.write(master, b"w")
    assert _read_until(master, output, b"Problems"), bytes(output[-2000:])
    for _ in range(_REDRAWS):  # nobody reads from here on: the terminal's buffer fills
        os.write(master, b"w")
        time.sleep(0.02)
    os.write(master, b"w")  # left open


def _store_locked(store: Path) -> bool:
    from waterspider_tui.cli.status import orchestrator_running

    return orchestrator_running(store)


@pytest.mark.parametrize("terminal_gone", [True, False], ids=["SIGHUP-terminal-closed", "SIGTERM-terminal-open"])
def test_a_stop_signal_with_the_problems_list_open_ends_the_run(tmp_path: Path, terminal_gone: bool) -> None:
    process, master = _start(tmp_path)
    closed = False
    try:
        _open_problems_and_fill_the_terminal(master)
        if terminal_gone:
            os.close(master)  # as tmux kill-session does, then the hangup
            closed = True
            process.send_signal(signal.SIGHUP)
        else:
            process.send_signal(signal.SIGTERM)
            _read_while_running(master, process)
        try:
            code = process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail("the control center did not end after the stop signal")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        if not closed:
            os.close(master)
    assert code == EXIT_INTERRUPTED
    assert not _store_locked(tmp_path / "state.db")
