"""The child's environment: an allowlist of ours, what the operator adds, and the issue's own variables."""

from __future__ import annotations

import fnmatch
import functools
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchError, SessionContext
from waterspider_tui.core.models import ErrorClass

MAX_ARGUMENT_BYTES = 128 * 1024 - 1
"""The longest single argument or environment entry Linux passes to a program (MAX_ARG_STRLEN, less its NUL)."""
ARGUMENTS_HEADROOM = 64 * 1024
"""Kept free of the system's total for arguments and environment, for the runner's own."""
BODY_FILE = "issue-body.md"
"""The issue body in the session folder (WATERSPIDER_ISSUE_BODY_FILE)."""
PROMPT_FILE = "prompt.md"
"""The prompt in the session folder, which Claude Code and Codex read as their stdin."""
FOLLOW_UP_FILE = "follow-up.md"
"""What the steps after the last session sent back (WATERSPIDER_FOLLOW_UP_FILE), when they did."""


def allowed_env(names: Iterable[str], source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `source` (default os.environ) whose names match an allowlist entry (globs allowed)."""
    source = os.environ if source is None else source
    allowed = _allowlist_pattern(tuple(name for name in names if name))
    return {key: value for key, value in source.items() if allowed(key)}


@functools.lru_cache(maxsize=32)
def _allowlist_pattern(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """One compiled match for all the globs: every launch filters the whole environment with it."""
    if not patterns:
        return lambda _name: False
    return re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns)).match


def issue_env(context: SessionContext, body_file: str = "") -> dict[str, str]:
    """`WATERSPIDER_ISSUE_*` and friends: what any agent may read about its issue and session."""
    variables = {
        "WATERSPIDER_ISSUE_NUMBER": str(context.number),
        "WATERSPIDER_ISSUE_TITLE": context.title,
        "WATERSPIDER_ISSUE_LABELS": ",".join(context.labels),
        "WATERSPIDER_ISSUE_KEY": context.issue_key,
        "WATERSPIDER_ISSUE_REPO": context.repo,
        "WATERSPIDER_ISSUE_BRANCH": context.branch,
        "WATERSPIDER_ISSUE_WORKTREE": context.worktree,
        "WATERSPIDER_ISSUE_SESSION_DIR": context.session_dir,
        "WATERSPIDER_ISSUE_ATTEMPT": str(context.attempt),
        "WATERSPIDER_ISSUE_SEED": str(context.seed),
    }
    if body_file:
        variables["WATERSPIDER_ISSUE_BODY_FILE"] = body_file
    return variables


def follow_up_env(context: SessionContext) -> dict[str, str]:
    """The follow-up's variable (a failed gate's output, in `follow-up.md` beside the prompt), or none."""
    if not context.follow_up.strip():
        return {}
    return {"WATERSPIDER_FOLLOW_UP_FILE": posixpath.join(context.session_dir, FOLLOW_UP_FILE)}


def body_file_path(context: SessionContext) -> str:
    """Where the issue body is, `issue-body.md` in the session dir (bodies are too big for env vars).

    Nothing is written here: the launch spec carries the file in `files`, and the executor
    writes it where the session runs, which may be another machine.
    """
    return posixpath.join(context.session_dir, BODY_FILE)


def check_command_size(argv: Iterable[str], env: Mapping[str, str]) -> None:
    """Raise LaunchError (prompt_too_long) for a command the system would refuse to start (E2BIG).

    Checked before the launch, so the operator reads what is too long and what to do instead of
    a failed start; an argument built from the issue body is the usual cause.
    """
    entries = [*(arg.encode() for arg in argv), *(f"{key}={value}".encode() for key, value in env.items())]
    for entry in entries:
        if len(entry) > MAX_ARGUMENT_BYTES:
            shown = entry[:40].decode("utf-8", "replace")
            raise LaunchError(
                f"an argument or variable is {len(entry) // 1024} KB ({shown!r}…), more than the {MAX_ARGUMENT_BYTES // 1024 + 1} KB "
                "a program can be given: pass long text such as the issue body in a file (WATERSPIDER_ISSUE_BODY_FILE)",
                ErrorClass.PROMPT_TOO_LONG,
            )
    total = sum(len(entry) + 1 + 8 for entry in entries)  # each string, its NUL and its pointer
    limit = _arguments_limit()
    if total > limit:
        raise LaunchError(
            f"the command and its environment take {total // 1024} KB, more than the {limit // 1024} KB this system allows: "
            "pass long text such as the issue body in a file (WATERSPIDER_ISSUE_BODY_FILE)",
            ErrorClass.PROMPT_TOO_LONG,
        )


@functools.lru_cache(maxsize=1)
def _arguments_limit() -> int:
    try:
        system_max = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        system_max = -1
    return max(system_max if system_max > 0 else 256 * 1024, 2 * ARGUMENTS_HEADROOM) - ARGUMENTS_HEADROOM


def agent_env(
    policy: EnvPolicy,
    *,
    agent_allow: Iterable[str] = (),
    defaults: Mapping[str, str] | None = None,
    issue: Mapping[str, str] | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full environment for a child: never the whole orchestrator env, so tokens stay home.

    Layers, later wins: allowlisted variables (the policy's plus the agent kind's own, e.g. its
    API key), the agent kind's defaults, the operator's `extra`, then the issue variables.
    """
    env = allowed_env([*policy.allow, *agent_allow], source)
    env.update(defaults or {})
    env.update(policy.extra)
    env.update(issue or {})
    return env


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """`template` with `{name}` replaced for known names only; other braces (JSON, code) stay as they are."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def template_values(context: SessionContext) -> dict[str, str]:
    """The values a prompt or argv template may use: number, title, body, labels, branch, worktree, repo."""
    return {
        "number": str(context.number),
        "title": context.title,
        "body": context.body,
        "labels": ", ".join(context.labels),
        "branch": context.branch,
        "worktree": context.worktree,
        "repo": context.repo,
        "issue_key": context.issue_key,
        "attempt": str(context.attempt),
        "session_dir": context.session_dir,
    }
