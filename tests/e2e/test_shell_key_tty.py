"""`s` in the control center on a real pseudo-terminal: the control center steps aside, the operator's
`$SHELL` runs in the selected session's worktree, and the control center comes back when it exits."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Callable

from tests.e2e.helpers import WATERSPIDER, clean_env
from tests.waiting import WAIT_S


def _read_until(master: int, output: bytearray, marker: bytes, process: subprocess.Popen[bytes]) -> bool:
    """Keep reading (a full terminal would block the app) until `marker` shows, the app ends, or WAIT_S passes."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if marker in output:
            return True
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                output += os.read(master, 65536)
            except OSError:
                break
        elif process.poll() is not None:
            break
    return marker in output


def test_s_runs_the_shell_in_the_worktree_and_the_control_center_comes_back(tmp_path: Path) -> None:
    seen = tmp_path / "shell-saw.txt"
    shell = tmp_path / "operator-shell.sh"
    shell.write_text(f'#!/bin/sh\npwd > "{seen}"\nexit 0\n')
    shell.chmod(0o755)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**clean_env(), "TERM": "xterm-256color", "SHELL": str(shell)}
    demo = tmp_path / "demo"
    process = subprocess.Popen([*WATERSPIDER, "demo", "--speed", "0.5", "--dir", str(demo)], stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)
    output = bytearray()
    try:
        assert _read_until(master, output, "\u25b6 ".encode(), process), "a session runs (the ▶ of its phase)"
        os.write(master, b"s")
        assert _read_until(master, output, b"Back from the shell", process), bytes(output[-2000:])
        worktree = Path(seen.read_text().strip())
        assert worktree.parent == (demo / "widgets" / ".worktrees").resolve() and worktree.name.startswith("issue-")
        assert (worktree / ".git").exists(), "a worktree of the demo's repository"
        os.write(master, b"q")
        assert _read_until(master, output, b"Quit how?", process)
        os.write(master, b"s")
        _read_until(master, output, b"\0never shown", process)  # read on until it exits: a full terminal would block it
        assert process.wait(timeout=WAIT_S) is not None, "the control center quit"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)


def _events_in(store: Path) -> int:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def _wait_for(condition: Callable[[], bool], master: int, output: bytearray) -> bool:
    """Poll `condition` for up to WAIT_S, draining the terminal meanwhile."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return True
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                output += os.read(master, 65536)
            except OSError:
                break
    return condition()


def test_the_engine_keeps_running_while_a_long_shell_is_open_and_the_screen_comes_back(tmp_path: Path) -> None:
    """A shell kept open for a while (the control center kept drawing into its stopped writer and froze)."""
    opened, stayed, leave = tmp_path / "shell-opened", tmp_path / "shell-stayed", tmp_path / "shell-leave"
    shell = tmp_path / "operator-shell.sh"
    shell.write_text(f'#!/bin/sh\ntouch "{opened}"\nsleep 15\ntouch "{stayed}"\n'
                     f'while [ ! -e "{leave}" ]; do sleep 0.2; done\nexit 0\n')
    shell.chmod(0o755)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**clean_env(), "TERM": "xterm-256color", "SHELL": str(shell)}
    demo = tmp_path / "demo"
    process = subprocess.Popen([*WATERSPIDER, "demo", "--speed", "0.5", "--dir", str(demo)], stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)
    output = bytearray()
    store = demo / "widgets" / ".waterspider" / "state.db"
    try:
        assert _read_until(master, output, "\u25b6 ".encode(), process), "a session runs (the ▶ of its phase)"
        os.write(master, b"s")
        assert _wait_for(stayed.exists, master, output), "the shell ran for its 15 seconds"
        recorded = _events_in(store)
        assert _wait_for(lambda: _events_in(store) > recorded, master, output), "the engine records events while the shell is open"
        assert process.poll() is None
        leave.touch()
        assert _read_until(master, output, b"Back from the shell", process), bytes(output[-2000:])
        os.write(master, b"q")
        assert _read_until(master, output, b"Quit how?", process), "keys reach the control center again"
        os.write(master, b"s")
        _read_until(master, output, b"\0never shown", process)  # read on until it exits: a full terminal would block it
        assert process.wait(timeout=WAIT_S) is not None, "the control center quit"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
