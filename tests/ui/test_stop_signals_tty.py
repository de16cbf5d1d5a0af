"""The control center on a real pseudo-terminal, stopped by a signal: the terminal is given back
(alternate screen left, cursor shown) before the process exits with the interrupted code."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.helpers import empty_project, run_on_terminal
from tests.waiting import WAIT_S
from waterspider_tui.exit_codes import EXIT_INTERRUPTED

ENTER_ALTERNATE_SCREEN = b"\x1b[?1049h"
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
SHOW_CURSOR = b"\x1b[?25h"


def _drain(master: int, output: bytearray, process: subprocess.Popen[bytes], until: bytes | None) -> bool:
    """Read what the app draws (a full terminal would block it) until `until` shows, or until it exits."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if until is not None and until in output:
            return True
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the last writer closed the terminal
                chunk = b""
            if not chunk and process.poll() is not None:
                break
            output += chunk
        elif process.poll() is not None:
            break
    return until is not None and until in output


def test_sigterm_gives_the_terminal_back(tmp_path: Path) -> None:
    """SIGHUP takes the same way out (tests/ui/test_stop_signals.py): one start of the real command is enough."""
    repo, issues = empty_project(tmp_path)
    process, master = run_on_terminal("run", "--issues", str(issues), "--repo-path", str(repo), "--store", str(tmp_path / "state.db"), "--agent", "simulated")
    output = bytearray()
    try:
        assert _drain(master, output, process, b"Running"), bytes(output[-2000:])
        assert ENTER_ALTERNATE_SCREEN in output
        drawn = len(output)
        process.send_signal(signal.SIGTERM)
        _drain(master, output, process, None)
        code = process.wait(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    after = bytes(output[drawn:])
    assert code == EXIT_INTERRUPTED, after[-2000:]
    assert LEAVE_ALTERNATE_SCREEN in after and SHOW_CURSOR in after, after[-2000:]
    assert after.rfind(LEAVE_ALTERNATE_SCREEN) > after.rfind(ENTER_ALTERNATE_SCREEN)
