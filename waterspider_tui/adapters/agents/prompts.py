"""The default prompts: solve the issue, run the tests, commit on the issue's branch."""

from __future__ import annotations

DEFAULT_PROMPT = """Resolve issue #{number} of {repo}: {title}

{body}

Labels: {labels}

You are in a git worktree at {worktree}, on branch {branch}. Make the change the issue asks
for, following the project's conventions. Run the project's tests and make sure they pass.
Commit your work on branch {branch} with a message that mentions #{number}; do not push and
do not switch branches. Finish with a short summary of what you changed and how you tested it."""

DEFAULT_RESUME_PROMPT = """Continue with issue #{number} ({title}) where you stopped. Finish the
change, run the project's tests, and commit on branch {branch}. Finish with a short summary."""


def with_follow_up(prompt: str, follow_up: str) -> str:
    """The prompt, then what the steps after the last session sent back (the completion gate's failures)."""
    return f"{prompt}\n\n{follow_up}" if follow_up.strip() else prompt
