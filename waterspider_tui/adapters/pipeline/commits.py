"""The first step after the agent: how many commits the branch gained, and how many files they touch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.adapters.workspace import start_ref

if TYPE_CHECKING:
    from waterspider_tui.core.models import SessionResult


class CountCommits:
    """Counts the session's commits: the branch's beyond its base and beyond where it stood at the
    session's start, whatever the agent said about them."""

    name = "commits"

    def applies(self, result: SessionResult) -> bool:
        return True

    async def run(self, context: StepContext) -> StepOutcome:
        branch, base = context.session.branch, context.base
        # A branch that was there before the session (the operator's commits, an earlier run's) is
        # counted from where it stood at the start. Later steps (gate, pull request) look at the
        # branch's work as a whole, as a reviewer would.
        marked = await context.executor.git(context.session, "rev-parse", "--verify", "--quiet", f"{start_ref(branch)}^{{commit}}")
        start = marked.stdout.strip() if marked.returncode == 0 else ""
        own_commits = (*context.own_commits, f"^{start}") if start else context.own_commits
        counted = await context.executor.git(context.session, "rev-list", "--count", *own_commits)
        if counted.returncode != 0:
            # Not a failure of the session: the count is only unknown (a branch deleted by hand).
            return StepOutcome(ok=True, summary=f"commits unknown: {counted.stderr.strip()[:200]}")
        if context.blockers_merged_in or start:
            # The other blockers' work came in by merge, or was on the branch before: only the files of its own commits are its own.
            names = await context.executor.git(context.session, "log", "--format=", "--name-only", *own_commits)
        else:
            names = await context.executor.git(context.session, "diff", "--name-only", f"{base}...{branch}")
        files = len({line for line in names.stdout.splitlines() if line.strip()}) if names.returncode == 0 else 0
        commits = int(counted.stdout.strip() or 0)
        return StepOutcome(ok=True, summary=f"{commits} commit{'s' if commits != 1 else ''}, {files} file{'s' if files != 1 else ''}", facts={"commits": commits, "files_changed": files})
