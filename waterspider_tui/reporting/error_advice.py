"""What an operator can do next about each class of failure, in one or two sentences."""

from __future__ import annotations

from waterspider_tui.core.models import ErrorClass

ADVICE: dict[ErrorClass, str] = {
    ErrorClass.MAX_TURNS: "The agent ran out of turns. Split the issue into smaller ones or raise the turn limit, then requeue.",
    ErrorClass.BUDGET: "The session hit its cost budget. Raise the per-issue budget or narrow the issue, then requeue.",
    ErrorClass.AUTH: "The agent could not authenticate. Log the agent in again (or fix its API key) on the host, then requeue.",
    ErrorClass.RATE_LIMITED: "The model API rate-limited the agent. It is retried automatically after the limit resets.",
    ErrorClass.USAGE_LIMIT: "The agent's usage limit is reached. Work resumes when it resets; raise the plan's limit if this repeats.",
    ErrorClass.OVERLOADED: "The model API was overloaded. It is retried automatically; nothing to do unless it keeps failing.",
    ErrorClass.PROMPT_TOO_LONG: "The issue and its context are too long for the model. Shorten the issue or split it, then requeue.",
    ErrorClass.PERMISSION_DENIED: "The agent was refused a tool or a file. Check the agent's allowed tools and the worktree's permissions.",
    ErrorClass.STALLED: "The agent stopped producing output. Read the session log for what it was waiting on, then requeue.",
    ErrorClass.TIMEOUT: "The session ran past its time limit. Split the issue or raise the session timeout, then requeue.",
    ErrorClass.CRASHED: "The agent process crashed. Read the end of the session log, fix the cause, then requeue.",
    ErrorClass.AGENT_NOT_FOUND: "The agent command is not installed on the host. Install it or fix its path in the config.",
    ErrorClass.BAD_OUTPUT: "The agent's output could not be read. Check the agent's version against the supported ones.",
    ErrorClass.WORKSPACE: "The worktree or branch could not be prepared. Check the repository checkout on the host (a stale worktree or branch).",
    ErrorClass.LOST: "The session was lost when the orchestrator restarted. Requeue it; the branch keeps any committed work.",
}
"""Advice per error class; every class has an entry (a test checks)."""

DEFAULT_ADVICE = "Read the session log for the cause, then requeue the issue."


def advice_for(error_class: ErrorClass | None) -> str:
    return ADVICE.get(error_class, DEFAULT_ADVICE) if error_class is not None else DEFAULT_ADVICE
