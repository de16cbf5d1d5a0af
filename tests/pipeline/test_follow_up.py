"""What a failed gate sends back reaches the agent: after Claude Code's and Codex's prompt, in a file for a command."""

from __future__ import annotations

from pathlib import Path

import pytest

from waterspider_tui.adapters.agents.base import EnvPolicy, SessionContext
from waterspider_tui.adapters.agents.registry import make_agent

FOLLOW_UP = "The completion gate failed after your work (round 1 of 2).\n\n## tests: exit 1\n```\nFAILED test_x\n```"


def _context(tmp_path: Path, follow_up: str = "", resume: str = "") -> SessionContext:
    worktree = tmp_path / "worktree"
    worktree.mkdir(parents=True, exist_ok=True)
    return SessionContext(
        issue_key="local#4", number=4, repo="local", title="Greet", body="Say hello.", labels=(), branch="feature/issue-4",
        worktree=str(worktree), session_dir=str(tmp_path / "session"), attempt=2, resume_agent_session=resume, follow_up=follow_up,
    )


@pytest.mark.parametrize("kind", ["claude", "codex"])
def test_the_follow_up_comes_after_the_prompt_of_a_resumed_session(tmp_path: Path, kind: str) -> None:
    agent = make_agent(kind, {"binary": "/bin/true"} if kind == "claude" else {}, EnvPolicy())
    spec = agent.launch(_context(tmp_path, FOLLOW_UP, resume="abc-123"))
    prompt = spec.files[spec.stdin_file]
    assert prompt.startswith("Continue with issue #4") and prompt.endswith(FOLLOW_UP)
    plain = agent.launch(_context(tmp_path / "again"))
    assert "completion gate" not in plain.files[plain.stdin_file]


def test_a_command_agent_finds_the_follow_up_in_a_file(tmp_path: Path) -> None:
    agent = make_agent("command", {"argv": ["/bin/true"]}, EnvPolicy())
    spec = agent.launch(_context(tmp_path, FOLLOW_UP))
    # The file travels in the launch spec; the executor writes it in the session folder where the session runs.
    assert spec.env["WATERSPIDER_FOLLOW_UP_FILE"] == str(tmp_path / "session" / "follow-up.md")
    assert spec.files["follow-up.md"] == FOLLOW_UP
    assert "WATERSPIDER_FOLLOW_UP_FILE" not in agent.launch(_context(tmp_path / "again")).env
