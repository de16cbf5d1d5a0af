"""OpenAI Codex as an agent: `codex exec --json - < prompt.md` in the worktree, read by CodexStreamParser.

The prompt goes in on stdin from a file in the session dir (`-` as the prompt reads it from
there): an issue body can be longer than the 128 KiB one argument may hold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec, SessionContext
from waterspider_tui.adapters.agents.codex_stream import CodexStreamParser, classify_codex_error
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
    writable_git_dirs: bool = True
    """Under workspace-write, let commands write the worktree's git dirs (`--add-dir`) so the agent can commit.

    Codex keeps every `.git` in its writable roots read-only, including the one a worktree's `.git`
    file points to, so without this `git commit` fails with "Read-only file system"."""
    config: dict[str, str] = field(default_factory=dict)
    """Extra `-c key=value` overrides (values are TOML)."""
    prompt_template: str = DEFAULT_PROMPT
    resume_prompt_template: str = DEFAULT_RESUME_PROMPT
    extra_args: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = CODEX_ENV_ALLOW


class CodexAgent:
    """An Agent that runs `codex exec --json -` with the prompt file as stdin (never a pipe left open: Codex waits on one)."""

    name = "codex"

    def __init__(self, options: CodexOptions, env_policy: EnvPolicy) -> None:
        self.options = options
        self.env_policy = env_policy

    def command(self, resume_thread: str = "", writable_dirs: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The argv: options (with `--add-dir` per writable dir) first, then `resume <thread>` when continuing, then `-`.

        `-` as the prompt makes Codex read it from stdin.
        """
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
        for directory in writable_dirs:
            argv += ["--add-dir", directory]
        argv += opts.extra_args
        if resume_thread:
            argv += ["resume", resume_thread]
        return (*argv, "-")

    def launch(self, context: SessionContext) -> LaunchSpec:
        """A fresh thread, or `resume` of the thread id the last attempt's stream reported."""
        resume_thread = context.resume_agent_session
        template = self.options.resume_prompt_template if resume_thread else self.options.prompt_template
        prompt = with_follow_up(fill_template(template, template_values(context)), context.follow_up)
        env = agent_env(
            self.env_policy,
            agent_allow=self.options.env_allow,
            issue=issue_env(context, body_file_path(context)),
        )
        argv = self.command(resume_thread, self._writable_dirs(context.worktree))
        check_command_size(argv, env)
        stdin_file = PROMPT_FILE
        files = {BODY_FILE: context.body, stdin_file: prompt}
        return LaunchSpec(argv=argv, env=env, cwd=context.worktree, agent_session_id=resume_thread, stdin_file=stdin_file, files=files)

    def parser(self) -> CodexStreamParser:
        return CodexStreamParser()

    def _writable_dirs(self, worktree: str) -> tuple[str, ...]:
        opts = self.options
        sandboxed_writes = opts.sandbox == "workspace-write" and not opts.dangerously_bypass_approvals_and_sandbox
        return git_dirs(worktree) if opts.writable_git_dirs and sandboxed_writes else ()


def git_dirs(worktree: str) -> tuple[str, ...]:
    """Where a commit in `worktree` writes: the repository's common git dir, then the worktree's own.

    A linked worktree's `.git` is a file `gitdir: <dir>`; that dir names the common one in `commondir`.
    Empty when `worktree` has no `.git` or it cannot be read.
    """
    dot_git = os.path.join(worktree, ".git")
    if os.path.isdir(dot_git):
        return (dot_git,)
    try:
        with open(dot_git, encoding="utf-8") as pointer:
            first_line = pointer.readline().strip()
    except OSError:
        return ()
    if not first_line.startswith("gitdir:"):
        return ()
    own = os.path.normpath(os.path.join(worktree, first_line.removeprefix("gitdir:").strip()))
    try:
        with open(os.path.join(own, "commondir"), encoding="utf-8") as commondir:
            common = os.path.normpath(os.path.join(own, commondir.readline().strip()))
    except OSError:
        return (own,)
    return (common, own) if common != own else (own,)
