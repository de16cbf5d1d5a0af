"""What an operator can do about each class of failure: the one table the comment, the detail
view, the event lines and the retry policy all read, so they never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from waterspider_tui.core.models import ErrorClass


@dataclass(frozen=True)
class Advice:
    cause: str
    """What happened, in one sentence."""
    fix: str
    """What the operator can do about it, ending with what to do then (usually requeue)."""


ADVICE: dict[ErrorClass, Advice] = {
    ErrorClass.MAX_TURNS: Advice("The agent ran out of turns.", "Split the issue into smaller ones or raise max_turns, then requeue."),
    ErrorClass.BUDGET: Advice("The session reached its spending cap.", "Raise the per-issue budget or narrow the issue, then requeue."),
    ErrorClass.AUTH: Advice("The agent could not authenticate.", "Log the agent in again (or fix its API key) on the host, then requeue."),
    ErrorClass.RATE_LIMITED: Advice("The model API rate-limited the agent.", "Nothing to do: dispatch pauses and resumes after the reset."),
    ErrorClass.USAGE_LIMIT: Advice("The agent's usage limit is reached.", "Nothing to do: dispatch resumes after the reset; raise the plan's limit if this repeats."),
    ErrorClass.OVERLOADED: Advice("The model API was overloaded.", "Requeue it later; check the provider's status page if this repeats."),
    ErrorClass.PROMPT_TOO_LONG: Advice("The issue and its context are too long for the model.", "Shorten the issue or the prompt template, or split the issue, then requeue."),
    ErrorClass.PERMISSION_DENIED: Advice("The agent was refused a tool or a file.", "Widen allowed_tools or the permission mode, then requeue."),
    ErrorClass.STALLED: Advice("The agent stopped producing output.", "Read the session log for what it was waiting on, then requeue."),
    ErrorClass.TIMEOUT: Advice("The session ran past its time limit.", "Split the issue or raise timeout_s, then requeue."),
    ErrorClass.CRASHED: Advice("The agent exited without a result.", "Read the end of the session log (and stderr.log beside it, if any), fix the cause, then requeue."),
    ErrorClass.AGENT_NOT_FOUND: Advice("The agent program was not found.", "Install it on the host or set agent.options.binary, then requeue."),
    ErrorClass.AGENT_EXIT: Advice("The agent command reported that it failed (exit 2: not to be retried).", "Read what it printed (`waterspider log show NUMBER`), fix the cause, then requeue."),
    ErrorClass.AGENT_RETRY_LATER: Advice("The agent command asked to be tried again later (exit 75).", "Read what it printed (`waterspider log show NUMBER`) for what it waited on, then requeue."),
    ErrorClass.BAD_OUTPUT: Advice("The agent's output could not be read.", "Check the agent's version against the supported ones, then requeue."),
    ErrorClass.WORKSPACE: Advice("The worktree or branch could not be prepared.", "Fix what the error names in the repository checkout on the host (a folder in the way, a stale worktree or branch), then requeue."),
    ErrorClass.INTERRUPTED: Advice("The agent was interrupted before it finished (Ctrl-C or SIGINT, by a person or a tool).", "Requeue it if nobody meant to stop it."),
    ErrorClass.HOST_DOWN: Advice("The session's host could not be reached.", "Check the host is up and reachable (`waterspider hosts check`); the issue is placed on another host meanwhile."),
    ErrorClass.HOST_REFUSED: Advice("The host refused the connection (its key, or the login).", "Run `waterspider hosts check` and fix what it names (known_hosts, the key, the user), then requeue."),
    ErrorClass.BLOCKERS_CONFLICT: Advice("The work of two issues it depends on conflicts, so it cannot start from both.", "Merge one of their pull requests (or resolve the conflict on one of their branches); it is tried again meanwhile, not charged an attempt."),
    ErrorClass.LOST: Advice("The orchestrator stopped before the session's agent started.", "Nothing to do: it is started again, not counted as an attempt."),
    ErrorClass.GATE_FAILED: Advice("The completion gate still failed after the agent's last try.", "Read the gate output in the comment or the session's step, fix the check or the issue, then requeue."),
    ErrorClass.PUSH_FAILED: Advice("The branch could not be pushed.", "Check the remote and the host's git credentials (the branch is kept in its worktree), then requeue."),
    ErrorClass.PR_FAILED: Advice("The pull request could not be opened or updated.", "Check the token's pull-request permission and the base branch (the branch is pushed), then requeue."),
}
"""Every class has an entry (a test checks)."""

RETRIED_NEXT = "It is retried automatically."
HOST_NEXT = "Dispatch is paused and the issue stays queued, not charged an attempt."
LIMIT_NEXT = "Dispatch pauses until the limit resets, then it runs again."
DEFAULT_ADVICE = Advice("The session failed.", "Read the session log for the cause, then requeue the issue.")


def advice_for(error_class: ErrorClass | None, *, will_retry: bool = False, limit: bool = False, host_wide: bool = False) -> str:
    """One or two sentences: the cause, then what happens next or what the operator can do.

    `will_retry` and `limit` come from the retry decision taken for this very failure, so a
    class that is usually retried still gets its fix once its attempts are used up.
    """
    advice = ADVICE.get(error_class, DEFAULT_ADVICE) if error_class is not None else DEFAULT_ADVICE
    if limit:
        return f"{advice.cause} {LIMIT_NEXT}"
    if host_wide:
        fix = advice.fix.removesuffix(", then requeue.").removesuffix(".")
        return f"{advice.cause} {HOST_NEXT} {fix}; dispatch resumes when the checks pass at the next start, or press p."
    if will_retry:
        return f"{advice.cause} {RETRIED_NEXT}"
    return f"{advice.cause} {advice.fix}"
