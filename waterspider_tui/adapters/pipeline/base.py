"""The contract of a step after the agent: it runs in the session's worktree, through its executor.

Steps run in order once the agent has ended. Each is recorded before it starts and after it
ends (StepStarted, StepFinished), so a restart in between repeats the step: a step must be safe
to run twice (look for the pull request before opening one, push what is already pushed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.core.models import SessionInfo, SessionResult
    from waterspider_tui.core.state import TaskRecord


@dataclass(frozen=True)
class StepContext:
    """What a step may look at: the issue, the session (its worktree and branch on its host),
    the result so far (the agent's, with what earlier steps found), and the executor to run
    commands where the session ran."""

    task: TaskRecord
    session: SessionInfo
    result: SessionResult
    executor: Executor
    base: str
    """The branch the issue branch started from on the session's host."""

    @property
    def blockers_merged_in(self) -> bool:
        """Other blockers' branches were merged into the branch at prepare (it is stacked on several,
        and its executor did start it from the first one's branch)."""
        return bool(self.session.merged_in) and self.base == self.session.base_branch

    @property
    def own_commits(self) -> tuple[str, ...]:
        """`git rev-list`/`git log` arguments for the branch's own commits: beyond its base and,
        when other blockers were merged in at prepare, beyond their branches, without those merges."""
        if not self.blockers_merged_in:
            return (f"{self.base}..{self.session.branch}",)
        return ("--no-merges", f"{self.base}..{self.session.branch}", *(f"^{branch}" for _, branch in self.session.merged_in))


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    summary: str = ""
    """One line for the event log and the progress comment."""
    error_class: str = ""
    """When not ok: the session's failure class (the step's own, e.g. `gate_failed`)."""
    facts: dict[str, int | float | str] = field(default_factory=dict)
    """What the step found, merged into the session's result (commits, files_changed, pr_url)."""
    retry_with_prompt: str = ""
    """When not ok and set: the session goes back to the agent (resuming its conversation where
    the agent can) with this text as its prompt, instead of failing for good. The completion
    gate sets it with its failure output while it has rounds left."""


class Step(Protocol):
    name: str
    """Stable: the store records steps by this name."""

    def applies(self, result: SessionResult) -> bool:
        """Whether the step runs after this result (a pull request only after a success)."""
        ...

    async def run(self, context: StepContext) -> StepOutcome:
        """Do the step; raise nothing for an expected failure (return ok=False with why)."""
        ...
