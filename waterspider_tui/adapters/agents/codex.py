"""OpenAI Codex as an agent: `codex exec --json PROMPT` in the worktree, read by CodexStreamParser."""

from __future__ import annotations

from dataclasses import dataclass, field

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec, SessionContext
from waterspider_tui.adapters.agents.codex_stream import CodexStreamParser, classify_codex_error
from waterspider_tui.adapters.agents.environment import (
    agent_env,
    fill_template,
    issue_env,
    template_values,
    write_body_file,
)
from waterspider_tui.adapters.agents.prompts import DEFAULT_PROMPT, DEFAULT_RESUME_PROMPT

__all__ = ["CodexAgent", "CodexOptions", "CodexStreamParser", "classify_codex_error"]

CODEX_ENV_ALLOW = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "CODEX_*")
"""Our variables Codex itself needs (credentials, endpoint, CODEX_HOME), beyond the policy's."""


@dataclass(frozen=True)
class CodexOptions:
    """How to run `codex exec`; empty values keep the CLI's defaults."""

    binary: str = "codex"
    model: str = ""
    sandbox: str = "workspace-write"
    """read-only, workspace-write or danger-full-access."""
    approval_policy: str = "never"
    """Given as `-c approval_policy=…`; a headless run has nobody to approve anything."""
    dangerously_bypass_approvals_and_sandbox: bool = False
    skip_git_repo_check: bool = False
    config: dict[str, str] = field(default_factory=dict)
    """Extra `-c key=value` overrides (values are TOML)."""
    prompt_template: str = DEFAULT_PROMPT
    resume_prompt_template: str = DEFAULT_RESUME_PROMPT
    extra_args: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = CODEX_ENV_ALLOW


class CodexAgent:
    """An Agent that runs `codex exec --json`; stdin must be /dev/null or Codex waits to read it."""

    name = "codex"

    def __init__(self, options: CodexOptions, env_policy: EnvPolicy) -> None:
        self.options = options
        self.env_policy = env_policy

    def command(self, prompt: str, resume_thread: str = "") -> tuple[str, ...]:
        """The argv: options first, then `resume <thread>` when continuing, then the prompt."""
        opts = self.options
        argv = [opts.binary, "exec", "--json"]
        if opts.model:
            argv += ["--model", opts.model]
        if opts.dangerously_bypass_approvals_and_sandbox:
            argv.append("--dangerously-bypass-approvals-and-sandbox")
        else:
            argv += ["--sandbox", opts.sandbox] if opts.sandbox else []
            argv += ["-c", f'approval_policy="{opts.approval_policy}"'] if opts.approval_policy else []
        if opts.skip_git_repo_check:
            argv.append("--skip-git-repo-check")
        for key, value in opts.config.items():
            argv += ["-c", f"{key}={value}"]
        argv += opts.extra_args
        if resume_thread:
            argv += ["resume", resume_thread]
        if prompt.startswith("-"):  # would be read as an option, not as the prompt
            prompt = " " + prompt
        return (*argv, prompt)

    def launch(self, context: SessionContext) -> LaunchSpec:
        """A fresh thread, or `resume` of the thread id the last attempt's stream reported."""
        resume_thread = context.resume_agent_session
        template = self.options.resume_prompt_template if resume_thread else self.options.prompt_template
        prompt = fill_template(template, template_values(context))
        env = agent_env(
            self.env_policy,
            agent_allow=self.options.env_allow,
            issue=issue_env(context, write_body_file(context)),
        )
        argv = self.command(prompt, resume_thread)
        return LaunchSpec(argv=argv, env=env, cwd=context.worktree, agent_session_id=resume_thread)

    def parser(self) -> CodexStreamParser:
        return CodexStreamParser()
