"""`log show --raw` on a terminal shows the agent's control sequences instead of obeying them
(an OSC 52 clipboard write, a retitle, a cursor move); into a pipe or a file it stays byte for byte."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.store.event_log import EventLog

CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4K\x07"
RED = "\x1b[31mred\x1b[0m"
LINE = f"before {CLIPBOARD}{RED} after\tend"


def make_store(tmp_path: Path) -> None:
    now = time.time()
    folder = tmp_path / "sessions" / "local-1" / "attempt-1"
    folder.mkdir(parents=True)
    session = SessionInfo(
        session_id="s-1-1", issue="local#1", attempt=1, executor="local", host="local", worktree=str(tmp_path / "issue-1"),
        branch="feature/issue-1", log_path=str(folder / "stdout.jsonl"), started_at=now - 60, agent="command", session_dir=str(folder),
    )
    Path(session.log_path).write_text(LINE + "\n", encoding="utf-8")
    path = tmp_path / ".waterspider" / "state.db"
    path.parent.mkdir()
    log = EventLog(path)
    log.append([
        ev.IssueSeen(ts=now - 90, issue_data=Issue(repo="local", number=1, title="One", created=now - 3600)),
        ev.SessionStarted(ts=now - 60, issue="local#1", session=session),
        ev.SessionFinished(ts=now - 30, issue="local#1", session_id="s-1-1", result=SessionResult(outcome=Outcome.SUCCEEDED)),
    ])
    log.close()


def command(tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "waterspider_tui", "log", "show", "1", "--raw", "--store", str(tmp_path / ".waterspider" / "state.db"), "--repo-path", str(tmp_path)]


def environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.upper().startswith("WATERSPIDER_")}


def test_raw_into_a_pipe_is_the_agents_output_byte_for_byte(tmp_path: Path) -> None:
    make_store(tmp_path)
    shown = subprocess.run(command(tmp_path), capture_output=True, cwd=tmp_path, env=environment(), timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.decode() == LINE + "\n"


def test_raw_on_a_terminal_shows_control_sequences_instead_of_obeying_them(tmp_path: Path) -> None:
    make_store(tmp_path)
    leader, follower = pty.openpty()
    try:
        shown = subprocess.run(command(tmp_path), stdout=follower, stderr=subprocess.PIPE, cwd=tmp_path, env=environment(), timeout=60)
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side closed: everything was read
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
    assert shown.returncode == 0, shown.stderr
    text = output.decode()
    assert "\x1b" not in text and "\x07" not in text, repr(text)
    assert "before \\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b[31mred\\x1b[0m after\tend" in text, repr(text)
