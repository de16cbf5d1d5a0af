"""Sending the later issue of a milestone conflict back to its agent: its branch on top of the integration branch.

The integration branch is merged into the issue's own worktree and the conflicts are left in
the files (nothing is resolved here); the agent's next prompt says which files conflict with
which issue and asks it to keep both sides' work. Where the worktree cannot be prepared (it
has uncommitted work, or the session ran on another machine), the prompt asks the agent to
do the merge itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from waterspider_tui.adapters.integration.git_commands import git
from waterspider_tui.core.models import Outcome

if TYPE_CHECKING:
    from waterspider_tui.adapters.integration.outcome import Integration
    from waterspider_tui.core.state import Snapshot

MAX_REWORKS = 2
"""A conflict sends the same issue back at most this many times; after that it is only reported."""


async def prepare_rework(repo_path: Path, snapshot: Snapshot, integration: Integration, identity: tuple[str, ...]) -> tuple[str, str]:
    """Merge the integration branch into the conflicting issue's worktree; (what was done, the agent's follow-up)."""
    conflict = integration.conflict
    assert conflict is not None
    task = snapshot.tasks.get(conflict.member.issue)
    good = next((attempt for attempt in reversed(task.history) if attempt.outcome is Outcome.SUCCEEDED), None) if task else None
    worktree = Path(good.worktree) if good is not None and good.worktree else None
    if worktree is not None and not worktree.is_absolute():
        worktree = Path(repo_path) / worktree
    done = await _merge_in(Path(repo_path), worktree, conflict.member.branch, integration, identity) if worktree is not None else ""
    return done, follow_up(integration, prepared=bool(done))


async def _merge_in(repo: Path, worktree: Path, branch: str, integration: Integration, identity: tuple[str, ...]) -> str:
    """`merged cleanly`, `conflicts left in the worktree`, or empty when the worktree was not prepared."""
    if not worktree.exists() and not (await git(repo, "worktree", "add", str(worktree), branch)).ok:
        return ""
    head = await git(worktree, "symbolic-ref", "--quiet", "--short", "HEAD")
    status = await git(worktree, "status", "--porcelain", "--untracked-files=no")
    if not head.ok or head.stdout.strip() != branch or not status.ok or status.stdout.strip():
        return ""  # not on its branch, or work not committed: left as it is
    message = f"Merge {integration.branch} into {branch} (milestone {integration.milestone})"
    merged = await git(worktree, *identity, "merge", "--no-ff", "--no-edit", "-m", message, integration.branch)
    if merged.ok:
        return "merged cleanly"
    unmerged = (await git(worktree, "diff", "--name-only", "--diff-filter=U")).lines()
    if not unmerged:
        await git(worktree, "merge", "--abort")
        return ""
    return "conflicts left in the worktree"


def follow_up(integration: Integration, *, prepared: bool) -> str:
    """What the agent reads after its prompt: the conflict, and what to do about it."""
    conflict = integration.conflict
    assert conflict is not None
    files = "\n".join(f"- {path}" for path in conflict.files)
    others = conflict.others(integration.base)
    if prepared:
        how = (f"`{integration.branch}` (the milestone's issues merged before this one) has been merged into your worktree, "
               "and git left the conflicts in the files for you.")
    else:
        how = f"First merge `{integration.branch}` into your branch: `git merge {integration.branch}`; git will stop on the conflicts."
    return (
        f"Milestone {integration.milestone} is being integrated into `{integration.branch}`, and this issue's branch "
        f"`{conflict.member.branch}` conflicts with {others} in these files (merge base {conflict.merge_base}):\n{files}\n\n"
        f"{how} Resolve every conflict so that this issue's change and the other work are both kept (never drop either side), "
        "run the tests, and commit the merge. Do not start the issue over."
    )
