"""A prompt far over the 128 KiB one argument may hold reaches the agent on stdin, through the real runner."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchError, LaunchSpec, SessionContext
from waterspider_tui.adapters.agents.command import CommandAgent, CommandOptions
from waterspider_tui.adapters.executors.local_processes import DetachedProcesses
from waterspider_tui.core.models import ErrorClass

READ_STDIN = "import hashlib, sys; data = sys.stdin.buffer.read(); print(len(data), hashlib.sha256(data).hexdigest())"


def context(tmp_path: Path, body: str) -> SessionContext:
    worktree = tmp_path / "worktree"
    worktree.mkdir(exist_ok=True)
    return SessionContext(
        issue_key="local#7", number=7, repo="local", title="Big", body=body, labels=(), branch="issue-7",
        worktree=str(worktree), session_dir=str(tmp_path / "session"),
    )  # fmt: skip


def run_session(tmp_path: Path, spec: LaunchSpec, launcher: str = "direct") -> tuple[int | None, Path]:
    session = tmp_path / "session"

    async def go() -> int | None:
        executor = DetachedProcesses(niceness=0, launcher=launcher)
        await executor.start(session, spec)
        return (await asyncio.wait_for(executor.wait(session), 60)).returncode

    return asyncio.run(go()), session


def test_a_megabyte_stdin_file_reaches_the_agent(tmp_path: Path) -> None:
    prompt = ("Resolve issue #7\n" + "log line with ünïcode\n" * 50_000).encode()
    assert len(prompt) > 1_000_000
    (tmp_path / "session").mkdir()
    (tmp_path / "session" / "prompt.md").write_bytes(prompt)  # named relative to the session folder
    (tmp_path / "worktree").mkdir()
    spec = LaunchSpec(argv=(sys.executable, "-c", READ_STDIN), env={"PATH": os.environ["PATH"]}, cwd=str(tmp_path / "worktree"),
                      stdin_file="prompt.md")  # fmt: skip
    returncode, session = run_session(tmp_path, spec)
    assert returncode == 0, (session / "stderr.log").read_text()
    assert (session / "stdout.jsonl").read_text().split() == [str(len(prompt)), hashlib.sha256(prompt).hexdigest()]


def test_without_a_stdin_file_the_agent_reads_nothing(tmp_path: Path) -> None:
    (tmp_path / "worktree").mkdir()
    spec = LaunchSpec(argv=(sys.executable, "-c", READ_STDIN), env={"PATH": os.environ["PATH"]}, cwd=str(tmp_path / "worktree"))
    returncode, session = run_session(tmp_path, spec)
    assert returncode == 0
    assert (session / "stdout.jsonl").read_text().split()[0] == "0"


def test_a_missing_stdin_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "worktree").mkdir()
    missing = tmp_path / "gone" / "prompt.md"
    spec = LaunchSpec(argv=(sys.executable, "-c", READ_STDIN), env={"PATH": os.environ["PATH"]}, cwd=str(tmp_path / "worktree"),
                      stdin_file=str(missing))  # fmt: skip
    returncode, session = run_session(tmp_path, spec, launcher="runner")  # the shell wrapper refuses it before the start
    assert returncode == 127
    assert str(missing) in (session / "stderr.log").read_text()
    assert str(missing) in json.loads((session / "exit.json").read_text())["error"]


def test_a_command_agent_with_the_body_in_argv_is_refused_before_it_starts(tmp_path: Path) -> None:
    """The operator put `{body}` in argv: too long to start, said at launch and not retried (prompt_too_long)."""
    agent = CommandAgent(CommandOptions(argv=(sys.executable, "-c", READ_STDIN, "{body}")), EnvPolicy())
    with pytest.raises(LaunchError) as refused:
        agent.launch(context(tmp_path, "x" * 200_000))
    assert refused.value.error_class is ErrorClass.PROMPT_TOO_LONG
    assert "195 KB" in str(refused.value) and "WATERSPIDER_ISSUE_BODY_FILE" in str(refused.value)
    many = CommandAgent(CommandOptions(argv=(sys.executable, *["{body}"] * 40)), EnvPolicy())
    with pytest.raises(LaunchError, match="this system allows"):
        many.launch(context(tmp_path, "y" * 100_000))
    spec = agent.launch(context(tmp_path, "a short body"))
    assert spec.argv[-1] == "a short body"
