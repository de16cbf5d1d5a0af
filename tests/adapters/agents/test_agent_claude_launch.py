"""ClaudeAgent's command line and environment, and where it finds the CLI."""

from __future__ import annotations

import importlib.util
import stat
import uuid
from pathlib import Path

import pytest
from agents_testkit import make_context

from waterspider_tui.adapters.agents import claude
from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec
from waterspider_tui.adapters.agents.claude import ClaudeAgent, ClaudeOptions, find_claude
from waterspider_tui.adapters.executors.local import write_launch_files


def launch(tmp_path: Path, options: ClaudeOptions, policy: EnvPolicy | None = None, **context: object):
    """Launch, then write the spec's files as the executor does where the session runs."""
    agent = ClaudeAgent(options, policy or EnvPolicy())
    existed = (tmp_path / "session").exists()
    spec = agent.launch(make_context(tmp_path / "wt", tmp_path / "session", **context))
    assert existed or not (tmp_path / "session").exists(), "a launch writes nothing itself: the session may run on another host"
    write_launch_files(tmp_path / "session", spec)
    return spec


def prompt_of(spec: LaunchSpec) -> str:
    written = (Path(spec.env["WATERSPIDER_ISSUE_SESSION_DIR"]) / spec.stdin_file).read_text(encoding="utf-8")
    assert spec.files[spec.stdin_file] == written, "a remote executor writes the same prompt on its host"
    return written


def test_minimal_command_line(tmp_path: Path) -> None:
    spec = launch(tmp_path, ClaudeOptions(binary="/opt/claude"))
    assert spec.argv[:5] == ("/opt/claude", "-p", "--output-format", "stream-json", "--verbose")
    assert spec.argv[-2] == "--session-id" and spec.argv[-1] == spec.agent_session_id
    assert uuid.UUID(spec.agent_session_id).version == 4
    assert spec.cwd == str(tmp_path / "wt")
    assert spec.stdin_file == "prompt.md", "the prompt comes on stdin, from the session folder"
    prompt = prompt_of(spec)
    assert prompt.startswith("Resolve issue #7 of acme/widgets: Fix the login crash\n\nLogging in with an empty password")
    assert '{"user": "x"}' in prompt  # braces in the body survive the template
    assert "on branch feature/issue-7" in prompt and "Labels: bug, P1-High" in prompt


def test_every_option_maps_to_its_flag(tmp_path: Path) -> None:
    options = ClaudeOptions(
        binary="claude", model="claude-sonnet-4-5", max_turns=30, max_budget_usd=2.5, permission_mode="acceptEdits",
        dangerously_skip_permissions=True, allowed_tools=("Bash(git *)", "Edit", "Read"), disallowed_tools=("WebFetch",),
        append_system_prompt="Never push.", mcp_config="/etc/mcp.json", extra_args=("--effort", "high"),
    )  # fmt: skip
    argv = list(launch(tmp_path, options).argv)
    pairs = {argv[index]: argv[index + 1] for index in range(2, len(argv) - 1) if argv[index].startswith("--")}
    assert pairs["--model"] == "claude-sonnet-4-5"
    assert pairs["--max-turns"] == "30"
    assert pairs["--max-budget-usd"] == "2.5"
    assert pairs["--permission-mode"] == "acceptEdits"
    assert pairs["--allowedTools"] == "Bash(git *),Edit,Read"
    assert pairs["--disallowedTools"] == "WebFetch"
    assert pairs["--append-system-prompt"] == "Never push."
    assert pairs["--mcp-config"] == "/etc/mcp.json"
    assert "--strict-mcp-config" in argv and "--dangerously-skip-permissions" in argv
    assert argv[-2:] == ["--effort", "high"]


def test_resume_uses_the_agents_session_and_a_resume_prompt(tmp_path: Path) -> None:
    session = "d56403a0-0ddb-481d-aef5-769cbb93b4d7"
    spec = launch(tmp_path, ClaudeOptions(binary="claude"), resume_agent_session=session, attempt=2)
    assert "--session-id" not in spec.argv
    index = spec.argv.index("--resume")
    assert spec.argv[index + 1] == session == spec.agent_session_id
    assert prompt_of(spec).startswith("Continue with issue #7 (Fix the login crash)")


def test_a_slash_command_template(tmp_path: Path) -> None:
    spec = launch(tmp_path, ClaudeOptions(binary="claude", prompt_template="/agent-run --issue {number} --repo {repo} {unknown}"))
    assert prompt_of(spec) == "/agent-run --issue 7 --repo acme/widgets {unknown}"
    dashed = launch(tmp_path, ClaudeOptions(binary="claude", prompt_template="--issue {number}"))
    assert prompt_of(dashed) == "--issue 7" and "--issue" not in dashed.argv  # on stdin it is never taken for an option


def test_a_megabyte_body_goes_in_on_stdin_not_in_argv(tmp_path: Path) -> None:
    body = "A long log.\n" + "x" * 1_000_000 + "\nEND"
    spec = launch(tmp_path, ClaudeOptions(binary="claude"), body=body)
    assert sum(len(arg) for arg in spec.argv) < 4096
    assert body in prompt_of(spec)
    assert Path(spec.env["WATERSPIDER_ISSUE_BODY_FILE"]).read_text() == body == spec.files["issue-body.md"]


def test_environment_is_an_allowlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", "https://discord.example/hook")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "oauth")
    monkeypatch.setenv("HOME", "/home/worker")
    spec = launch(tmp_path, ClaudeOptions(binary="claude", is_sandbox=True), EnvPolicy(extra={"HTTPS_PROXY": "http://proxy:3128"}))
    env = spec.env
    assert "GITHUB_TOKEN" not in env and "GH_TOKEN" not in env and "DISCORD_WEBHOOK_URL" not in env
    assert env["ANTHROPIC_API_KEY"] == "sk-ant-test" and env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9"
    assert env["CLAUDE_CODE_OAUTH_TOKEN"] == "oauth"
    assert env["HOME"] == "/home/worker" and env["HTTPS_PROXY"] == "http://proxy:3128"
    assert env["IS_SANDBOX"] == "1" and env["DISABLE_AUTOUPDATER"] == "1"
    assert env["WATERSPIDER_ISSUE_NUMBER"] == "7"
    assert Path(env["WATERSPIDER_ISSUE_BODY_FILE"]).read_text().startswith("Logging in")
    # An operator can narrow what Claude Code sees, down to nothing of ours.
    narrow = launch(tmp_path, ClaudeOptions(binary="claude", env_allow=()), EnvPolicy(allow=("PATH",)))
    assert "ANTHROPIC_API_KEY" not in narrow.env and "HOME" not in narrow.env


def executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_binary_comes_from_options_then_path_then_the_sdk_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = executable(tmp_path / "bin", "claude")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_claude("/custom/claude") == "/custom/claude"
    assert find_claude() == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    bundled = executable(tmp_path / "sdk", "claude")
    monkeypatch.setattr(claude, "bundled_claude", lambda: str(bundled))
    assert find_claude() == str(bundled)
    monkeypatch.setattr(claude, "bundled_claude", lambda: None)
    assert find_claude() == "claude"  # fails at exec with 127, reported as agent_not_found


def test_the_sdk_bundle_is_found_when_installed() -> None:
    if importlib.util.find_spec("claude_agent_sdk") is None:
        pytest.skip("claude-agent-sdk is not installed")
    path = claude.bundled_claude()
    assert path is not None and path.endswith("/_bundled/claude")
