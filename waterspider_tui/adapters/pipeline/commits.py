"""The first step after the agent: how many commits the branch gained, and how many files they touch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome

if TYPE_CHECKING:
    from waterspider_tui.core.models import SessionResult


class CountCommits:
    """Counts the branch's commits beyond its base, whatever the agent said about them."""

    name = "commits"

    def applies(self, result: SessionResult) -> bool:
        return True

    async def run(self, context: StepContext) -> StepOutcome:
        branch, base = context.session.branch, context.base
        counted = await context.executor.git(context.session, "rev-list", "--count", *context.own_commits)
        if counted.returncode != 0:
            # Not a failure of the session: the count is only unknown (a branch deleted by hand).
            return StepOutcome(ok=True, summary=f"commits unknown: {counted.stderr.strip()[:200]}")
        if context.blockers_merged_in:
            # The other blockers' work came in by merge: only the files of its own commits are its own.
            names = await context.executor.git(context.session, "log", "--format=", "--name-only", *context.own_commits)
        else:
            names = await context.executor.git(context.session, "diff", "--name-only", f"{base}...{branch}")
        files = len({line for line in names.stdout.splitlines() if line.strip()}) if names.returncode == 0 else 0
        commits = int(counted.stdout.strip() or 0)
        return StepOutcome(ok=True, summary=f"{commits} commit{'s' if commits != 1 else ''}, {files} file{'s' if files != 1 else ''}", facts={"commits": commits, "files_changed": files})
