"""The child's environment: an allowlist of ours, what the operator adds, and the issue's own variables."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping

from waterspider_tui.adapters.agents.base import EnvPolicy, SessionContext


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


def write_body_file(context: SessionContext) -> str:
    """Write the issue body to `issue-body.md` in the session dir (bodies are too big for env vars)."""
    os.makedirs(context.session_dir, exist_ok=True)
    path = os.path.join(context.session_dir, "issue-body.md")
    with open(path, "w", encoding="utf-8") as body_file:
        body_file.write(context.body)
    return path


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
