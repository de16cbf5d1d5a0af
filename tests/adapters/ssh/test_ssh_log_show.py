"""`waterspider log show` of a session that ran on an SSH host (a real sshd on 127.0.0.1): the log is
read from that host, as the control center's `l` reads it; a host that cannot be reached, a log that
is gone and a host no longer configured are each said as such."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from waterspider_tui.cli import cli
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.store.event_log import EventLog

from sshd_server import SshServer

LINES = [
    {"type": "system", "subtype": "init", "session_id": "a-1", "model": "sonnet", "cwd": "/w"},
    {"type": "assistant", "session_id": "a-1", "message": {"id": "m1", "content": [{"type": "text", "text": "Written on mini-1."}]}},
    {"type": "result", "subtype": "success", "is_error": False, "num_turns": 2, "session_id": "a-1", "result": "done"},
]
SESSION_DIR = "~/.waterspider/sessions/local-21/attempt-1-abcd"


@pytest.fixture
def project(tmp_path: Path, server: SshServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store whose issue #21 ran on mini-1, and a waterspider.toml naming mini-1 as the test's sshd."""
    for name in list(os.environ):
        if name.upper().startswith("WATERSPIDER_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    host = server.host()
    (folder / "waterspider.toml").write_text(
        f'[[hosts]]\nname = "mini-1"\naddress = "127.0.0.1"\nport = {host.port}\nuser = "root"\nidentity_file = "{host.identity_file}"\n'
        f'use_agent = false\nknown_hosts = "{host.known_hosts}"\nssh_config = {json.dumps(list(host.ssh_config))}\nrepo_path = "{host.repo_path}"\n'
        'connect_timeout_s = 2.0\ncommand_timeout_s = 5.0\n'
    )
    now = time.time()
    session = SessionInfo(
        session_id="s-21-1", issue="local#21", attempt=1, executor="ssh", host="mini-1", worktree="~/widgets/.worktrees/issue-21",
        branch="feature/issue-21", log_path=f"{SESSION_DIR}/stdout.jsonl", started_at=now - 60, agent="claude", session_dir=SESSION_DIR,
    )
    log = EventLog(folder / ".waterspider" / "state.db")
    log.append([
        ev.IssueSeen(ts=now - 90, issue_data=Issue(repo="local", number=21, title="Task 21", created=now - 3600)),
        ev.SessionStarted(ts=now - 60, issue="local#21", session=session),
        ev.SessionFinished(ts=now - 30, issue="local#21", session_id="s-21-1", result=SessionResult(outcome=Outcome.SUCCEEDED)),
    ])
    log.close()
    return folder


def _on_host(server: SshServer) -> Path:
    return server.home / SESSION_DIR.removeprefix("~/") / "stdout.jsonl"


def test_the_log_of_a_session_on_a_host_is_read_from_that_host(project: Path, server: SshServer) -> None:
    _on_host(server).parent.mkdir(parents=True)
    _on_host(server).write_text("".join(json.dumps(line) + "\n" for line in LINES))
    result = CliRunner().invoke(cli, ["log", "show", "21"])
    assert result.exit_code == 0, result.output
    assert "  Written on mini-1." in result.stdout.splitlines()
    assert "#21 Task 21 · attempt 1 of 1 · claude on mini-1 · succeeded" in result.stderr
    raw = CliRunner().invoke(cli, ["log", "show", "21", "--raw"])
    assert [json.loads(line) for line in raw.stdout.splitlines()] == LINES


def test_a_log_gone_from_its_host_and_a_host_that_cannot_be_reached_are_told_apart(project: Path, server: SshServer) -> None:
    gone = CliRunner().invoke(cli, ["log", "show", "21"])
    assert gone.exit_code == 2
    assert gone.stderr == f"waterspider: the log of #21 attempt 1 is not on mini-1 at {SESSION_DIR}/stdout.jsonl: removed (waterspider clean, or by hand)\n"
    server.stop()
    down = CliRunner().invoke(cli, ["log", "show", "21"])
    assert down.exit_code == 2
    assert down.stderr.startswith("waterspider: the log of #21 attempt 1 is on mini-1, which cannot be reached now: ")
    (project / "waterspider.toml").write_text("")
    unknown = CliRunner().invoke(cli, ["log", "show", "21"])
    assert unknown.exit_code == 2
    assert unknown.stderr == "waterspider: the log of #21 attempt 1 is on mini-1, which is not a [[hosts]] entry of this configuration: add it to read the log\n"
