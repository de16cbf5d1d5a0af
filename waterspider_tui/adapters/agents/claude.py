"""Claude Code as an agent: `claude -p --output-format stream-json --verbose < prompt.md`, run by our executors.

We build the command line ourselves and read stdout with our own parser instead of using
claude-agent-sdk's transport. The SDK owns its child process: it spawns the CLI, keeps stdin
open for its control protocol and parses stdout in the same Python process. Our executors
instead start the agent detached under a wrapper that writes its output to a session log, so
an orchestrator restart can reattach to a live session; remote executors run the very same
command over SSH and parse the same bytes. Both need a plain argv, an env and a line parser,
and nothing that must live in the process which started the agent. The SDK is still useful
for one thing: its wheel bundles the CLI, which we use when no `claude` is on PATH.

The prompt goes in on stdin from a file in the session dir (`-p` without a prompt argument
reads it from there): an issue body can be longer than the 128 KiB one argument may hold.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import uuid
from dataclasses import dataclass

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec, SessionContext
from waterspider_tui.adapters.agents.claude_stream import ClaudeStreamParser
from waterspider_tui.adapters.agents.environment import (
    BODY_FILE,
    PROMPT_FILE,
    agent_env,
    body_file_path,
    check_command_size,
    fill_template,
    issue_env,
    template_values,
)
from waterspider_tui.adapters.agents.prompts import DEFAULT_PROMPT, DEFAULT_RESUME_PROMPT, with_follow_up

CLAUDE_ENV_ALLOW = (
    "ANTHROPIC_*",
    "CLAUDE_CODE_*",
    "CLAUDE_CONFIG_DIR",
    "IS_SANDBOX",
    "API_TIMEOUT_MS",
    "BASH_DEFAULT_TIMEOUT_MS",
    "BASH_MAX_TIMEOUT_MS",
    "MCP_TIMEOUT",
)
"""Our variables Claude Code itself needs (credentials, endpoint, timeouts), beyond the policy's."""


@dataclass(frozen=True)
class ClaudeOptions:
    """How to run Claude Code; every field maps to one CLI flag, empty means the CLI's default."""

    binary: str = ""
    """Path or name of `claude`; empty: `claude` on PATH, then the CLI bundled in claude-agent-sdk."""
    model: str = ""
    max_turns: int | None = None
    max_budget_usd: float | None = None
    permission_mode: str = ""
    """acceptEdits, bypassPermissions, auto, dontAsk, plan… (bypass as root also needs is_sandbox)."""
    dangerously_skip_permissions: bool = False
    allowed_tools: tuple[str, ...] = ()
    disallowed_tools: tuple[str, ...] = ()
    append_system_prompt: str = ""
    mcp_config: str = ""
    """A file or JSON string; loaded with --strict-mcp-config so repo MCP servers stay out."""
    prompt_template: str = DEFAULT_PROMPT
    """With {number} {title} {body} {labels} {branch} {worktree} {repo}; may be a slash command."""
    resume_prompt_template: str = DEFAULT_RESUME_PROMPT
    extra_args: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = CLAUDE_ENV_ALLOW
    is_sandbox: bool = False
    """Set IS_SANDBOX=1, which Claude Code requires for bypassPermissions when run as root."""


def bundled_claude() -> str | None:
    """The CLI inside an installed claude-agent-sdk wheel (`claude_agent_sdk/_bundled/claude`), if any."""
    try:
        spec = importlib.util.find_spec("claude_agent_sdk")  # finds the package without importing it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    name = "claude.exe" if sys.platform == "win32" else "claude"
    for folder in spec.submodule_search_locations:
        candidate = os.path.join(folder, "_bundled", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_claude(binary: str = "") -> str:
    """The CLI to run: the configured one, else `claude` on PATH, else the bundled one, else `claude`.

    The last fallback lets the launch fail with exit 127, which the parser reports as agent_not_found.
    """
    return binary or shutil.which("claude") or bundled_claude() or "claude"


class ClaudeAgent:
    """An Agent that runs the Claude Code CLI headless, one session per issue worktree."""

    name = "claude"

    def __init__(self, options: ClaudeOptions, env_policy: EnvPolicy) -> None:
        self.options = options
        self.env_policy = env_policy

    def command(self, session_id: str, *, resume: bool) -> tuple[str, ...]:
        """The argv; the prompt comes on stdin, which must be a file (an open pipe makes the CLI wait)."""
        opts = self.options
        argv = [find_claude(opts.binary), "-p", "--output-format", "stream-json", "--verbose"]
        if opts.model:
            argv += ["--model", opts.model]
        if opts.max_turns:
            argv += ["--max-turns", str(opts.max_turns)]
        if opts.max_budget_usd:
            argv += ["--max-budget-usd", str(opts.max_budget_usd)]
        if opts.permission_mode:
            argv += ["--permission-mode", opts.permission_mode]
        if opts.dangerously_skip_permissions:
            argv.append("--dangerously-skip-permissions")
        if opts.allowed_tools:
            argv += ["--allowedTools", ",".join(opts.allowed_tools)]
        if opts.disallowed_tools:
            argv += ["--disallowedTools", ",".join(opts.disallowed_tools)]
        if opts.append_system_prompt:
            argv += ["--append-system-prompt", opts.append_system_prompt]
        if opts.mcp_config:
            argv += ["--mcp-config", opts.mcp_config, "--strict-mcp-config"]
        argv += ["--resume", session_id] if resume else ["--session-id", session_id]
        return (*argv, *opts.extra_args)

    def launch(self, context: SessionContext) -> LaunchSpec:
        """A fresh session with an id we choose, or `--resume` of the agent's earlier session."""
        resume = bool(context.resume_agent_session)
        session_id = context.resume_agent_session or str(uuid.uuid4())
        template = self.options.resume_prompt_template if resume else self.options.prompt_template
        prompt = with_follow_up(fill_template(template, template_values(context)), context.follow_up)
        defaults = {"DISABLE_AUTOUPDATER": "1"}
        if self.options.is_sandbox:
            defaults["IS_SANDBOX"] = "1"
        env = agent_env(
            self.env_policy,
            agent_allow=self.options.env_allow,
            defaults=defaults,
            issue=issue_env(context, body_file_path(context)),
        )
        argv = self.command(session_id, resume=resume)
        check_command_size(argv, env)
        stdin_file = PROMPT_FILE
        files = {BODY_FILE: context.body, stdin_file: prompt}
        return LaunchSpec(argv=argv, env=env, cwd=context.worktree, agent_session_id=session_id, stdin_file=stdin_file, files=files)

    def parser(self) -> ClaudeStreamParser:
        return ClaudeStreamParser()
