"""How sessions are run and judged: limits, retries, budgets, and what a closed issue means."""

from __future__ import annotations

from dataclasses import dataclass

from waterspider_tui.core.readiness import DependantsWaitFor


@dataclass(frozen=True)
class SessionPolicy:
    stall_timeout_s: float = 600.0
    """No output this long: the session is stopped as stalled."""
    start_timeout_s: float = 600.0
    """One step of a start (its worktree, the agent's launch, its process) not done in this long is
    given up on: the session ends crashed, not charged (its agent never ran), and is tried again."""
    timeout_s: float = 3 * 3600.0
    grace_s: float = 10.0
    """Between asking a session to stop and killing what is left of it."""
    max_attempts: int = 3
    """Attempts in which the agent ran; one lost before its agent started does not count."""
    retry_backoff_s: float = 30.0
    per_issue_budget_usd: float | None = None
    daily_budget_usd: float | None = None
    on_issue_gone: str = "finish"
    """`finish` lets a running session end when its issue is closed or unlabeled; `stop` stops it."""
    seed: int = 0
    """Passed to simulated agents, so the same seed gives the same run."""
    dependants_wait_for: DependantsWaitFor = "gate_passed"
    """With `gate_passed` a dependant's worktree starts from its unmerged blocker's branch (stacked)."""
