"""`waterspider status` with and without an orchestrator, and `waterspider log show` of ended and running sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from waterspider_tui.cli import cli
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.engine.locks import run_locks
from waterspider_tui.store.event_log import EventLog

CLAUDE_LINES = [
    {"type": "system", "subtype": "init", "session_id": "a-1", "model": "sonnet", "cwd": "/w"},
    {"type": "assistant", "session_id": "a-1", "message": {"id": "m1", "content": [{"type": "text", "text": "Reading the handler."}]}},
    {"type": "result", "subtype": "error_max_turns", "is_error": True, "num_turns": 40, "session_id": "a-1", "errors": ["Reached maximum number of turns (40)"]},
]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WATERSPIDER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _session(tmp_path: Path, number: int, now: float, attempt: int = 1) -> SessionInfo:
    folder = tmp_path / "sessions" / f"local-{number}" / f"attempt-{attempt}"
    folder.mkdir(parents=True)
    return SessionInfo(
        session_id=f"s-{number}-{attempt}", issue=f"local#{number}", attempt=attempt, executor="local", host="local",
        worktree=str(tmp_path / f"issue-{number}"), branch=f"feature/issue-{number}", log_path=str(folder / "stdout.jsonl"),
        started_at=now - 600, agent="claude", session_dir=str(folder),
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Issue 1 failed (max_turns), issue 2 left running by the last run, issue 3 never ran."""
    path = tmp_path / ".waterspider" / "state.db"
    path.parent.mkdir()
    now = time.time()  # at the test's start: "1m ago" below counts from here
    failed, running = _session(tmp_path, 1, now), _session(tmp_path, 2, now)
    Path(failed.log_path).write_text("".join(json.dumps(line) + "\n" for line in CLAUDE_LINES))
    Path(running.log_path).write_text(json.dumps(CLAUDE_LINES[0]) + "\n")
    log = EventLog(path)
    log.append([
        *[ev.IssueSeen(ts=now - 900, issue_data=Issue(repo="local", number=n, title=f"Issue {n}", created=now - 3600)) for n in (1, 2, 3)],
        ev.SessionStarted(ts=now - 600, issue="local#1", session=failed),
        ev.SessionFinished(ts=now - 300, issue="local#1", session_id=failed.session_id, result=SessionResult(
            outcome=Outcome.FAILED, error_class=ErrorClass.MAX_TURNS, error="Reached maximum number of turns (40)")),
        ev.SessionStarted(ts=now - 200, issue="local#2", session=running),
        ev.SessionSpawned(ts=now - 199, issue="local#2", session_id=running.session_id, pid=None),
        ev.SessionDetached(ts=now - 100, issue="local#2", session_id=running.session_id),
    ])
    log.close()
    return path


def test_status_without_an_orchestrator_says_so_and_when_it_last_ran(store: Path) -> None:
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("no orchestrator is running: the last run recorded its last event at ")
    assert lines[0].endswith("(1m ago)")
    assert lines[1] == "when it stopped: ● dispatching"
    assert "running (1) (left running by the last run, to be reattached at the next start; phases as last recorded):" in lines
    assert "blocked (0):" in lines and "ready (1), in dispatch order:" in lines
    assert any(line.split()[:3] == ["#1", "failed", "(max_turns)"] for line in lines)


def test_status_with_an_orchestrator_running(store: Path) -> None:
    held = run_locks(store)
    held.acquire()
    try:
        result = CliRunner().invoke(cli, ["status", "--json"])
    finally:
        held.release()
    data = json.loads(result.stdout)
    assert data["orchestrator_running"] is True and data["state"] == "dispatching"
    assert [item["issue"] for item in data["running"]] == [2]
    assert CliRunner().invoke(cli, ["status", "--json"]).stdout.count('"orchestrator_running": false') == 1


def test_log_show_prints_an_ended_sessions_log(store: Path) -> None:
    result = CliRunner().invoke(cli, ["log", "show", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "· session a-1 · sonnet · /w",
        "  Reading the handler.",
        "◆ failed, max_turns (40 turns, 0.0s, $0.0000): Reached maximum number of turns (40)",
    ]
    assert "#1 Issue 1 · attempt 1 of 1 · claude on local · failed (max_turns)" in result.stderr
    raw = CliRunner().invoke(cli, ["log", "show", "#1", "--raw"])
    assert [json.loads(line) for line in raw.stdout.splitlines()] == CLAUDE_LINES


@pytest.mark.parametrize(("args", "message"), [
    (["3"], "#3 has not run yet: there is no log"),
    (["1", "--attempt", "2"], "#1 has no attempt 2 (attempts: 1)"),
    (["9"], "no issue 9"),
])
def test_log_show_says_what_is_missing(store: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["log", "show", *args])
    assert result.exit_code == 2
    assert result.stderr == f"waterspider: {message}\n"


def test_log_show_follow_prints_new_lines_until_the_session_ends(store: Path, tmp_path: Path) -> None:
    log_path = tmp_path / "sessions" / "local-2" / "attempt-1" / "stdout.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "waterspider_tui", "log", "show", "2", "--follow"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("· session a-1")
        with log_path.open("a") as out:
            out.write(json.dumps(CLAUDE_LINES[1]) + "\n")
        assert process.stdout.readline() == "  Reading the handler.\n"
        log = EventLog(store)
        log.append([ev.SessionFinished(ts=time.time(), issue="local#2", session_id="s-2-1", result=SessionResult(outcome=Outcome.SUCCEEDED))])
        log.close()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "(the session ended: succeeded)" in process.stderr.read()
