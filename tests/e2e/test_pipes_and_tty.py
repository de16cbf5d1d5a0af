"""The real command under pipes, signals and no terminal: it ends, says why, and leaves sessions to reattach."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import IO

from tests.e2e.helpers import WATERSPIDER, clean_env, run_cli
from waterspider_tui.exit_codes import EXIT_DONE, EXIT_INTERRUPTED, EXIT_USAGE

WAIT_S = 90.0
"""Generous: a busy 2-core machine starts five sessions slowly."""


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*WATERSPIDER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or clean_env())


def _read_until(stream: IO[str], marker: str) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = stream.readline()
        assert line, f"output ended before {marker!r}: {lines[-5:]}"
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} within {WAIT_S}s")


def _finish_demo(folder: Path) -> None:
    """Reattach to what was left running and let it end, so no session outlives the test."""
    result = run_cli("demo", "--no-ui", "--speed", "50", "--dir", str(folder), timeout=WAIT_S * 2)
    assert result.returncode == EXIT_DONE, result.stdout[-2000:] + result.stderr[-2000:]
    assert "reattached to pid" in result.stdout


def test_a_closed_pipe_ends_the_run_like_ctrl_c(tmp_path: Path) -> None:
    process = _start("demo", "--no-ui", "--speed", "2", "--dir", str(tmp_path))
    assert process.stdout is not None and process.stderr is not None
    _read_until(process.stdout, " agent running (pid ")
    process.stdout.close()  # as `| head` does once it has its lines
    try:
        code = process.wait(timeout=WAIT_S)
    finally:
        process.kill()
    stderr = process.stderr.read()
    assert code == EXIT_INTERRUPTED, stderr[-2000:]
    assert "still running, to be reattached: run `waterspider demo --no-ui --speed 2 --dir" in stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    _finish_demo(tmp_path)


def test_ctrl_c_in_no_ui_exits_with_its_own_code(tmp_path: Path) -> None:
    process = _start("demo", "--no-ui", "--speed", "2", "--dir", str(tmp_path))
    assert process.stdout is not None and process.stderr is not None
    _read_until(process.stdout, " agent running (pid ")
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED, stderr[-2000:]
    assert "summary: not done" in stdout
    assert "to be reattached" in stderr
    _finish_demo(tmp_path)


def test_the_control_center_without_a_terminal_says_to_use_no_ui(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", str(tmp_path))
    assert result.returncode == EXIT_USAGE
    assert "needs a terminal" in result.stderr and "--no-ui" in result.stderr
    assert "\x1b[" not in result.stdout, "no escape codes written to a pipe"


def test_the_demo_without_dir_removes_its_folder(tmp_path: Path) -> None:
    env = {**clean_env(), "TMPDIR": str(tmp_path)}
    result = subprocess.run([*WATERSPIDER, "demo", "--no-ui", "--speed", "50"], capture_output=True, text=True, env=env, timeout=WAIT_S * 2)
    assert result.returncode == EXIT_DONE, result.stderr[-2000:]
    assert "summary: all done: 20 succeeded" in result.stdout
    assert not [path for path in tmp_path.iterdir() if path.name.startswith("waterspider-demo-")]


def test_no_issue_source_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("run", "--no-ui", "--repo-path", str(tmp_path), cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert "no issue source" in result.stderr
    assert os.listdir(tmp_path) == [], "nothing was written"


class _Terminal:
    """The control center in a real pseudo-terminal, 100x30: what it drew, and keys typed into it."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {**clean_env(), "TERM": "xterm-256color"}
        self.process = subprocess.Popen([*WATERSPIDER, *args], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = b""

    def read_until(self, marker: bytes, timeout: float = WAIT_S) -> bool:
        """Keep reading (a full terminal would block the app) until `marker` shows or time is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.output:
                return True
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    return marker in self.output
            elif self.process.poll() is not None:
                return marker in self.output
        return False

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait(self) -> int | None:
        deadline = time.monotonic() + WAIT_S
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read_until(b"\0never", timeout=0.5)
        return self.process.poll()

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        os.close(self.master)


def test_ctrl_c_in_the_control_center_asks_the_quit_question(tmp_path: Path) -> None:
    terminal = _Terminal("demo", "--speed", "2", "--dir", str(tmp_path))
    try:
        assert terminal.read_until(b"Running"), terminal.output[-2000:]
        assert terminal.read_until(b"\xe2\x96\xb6 "), "a session runs (the ▶ of its phase)"
        terminal.type(b"\x03")
        assert terminal.read_until(b"Quit how?"), "Ctrl-C asks, as q does"
        assert b"Press" not in terminal.output.split(b"Quit how?")[0][-400:]
        terminal.type(b"s")
        assert terminal.wait() == EXIT_DONE
    finally:
        terminal.close()
    status = run_cli("status", "--json", "--repo-path", str(tmp_path / "widgets"))
    assert '"running": []' in status.stdout, "Stop stopped every session"
