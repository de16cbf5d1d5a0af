"""The issues of a milestone as branches to merge, and the milestone's name as a branch name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from waterspider_tui.core.models import Outcome

if TYPE_CHECKING:
    from waterspider_tui.core.milestones import MilestoneProgress
    from waterspider_tui.core.state import Snapshot

_UNSAFE_REF = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class MemberBranch:
    """One issue's work to merge."""

    issue: str
    label: str
    """`#12`: how reports name the issue."""
    title: str
    branch: str
    pull_request: str = ""
    """The issue's own pull request (its URL), when the pipeline opened one."""
    closed_upstream: bool = False
    """Closed on GitHub (its pull request merged): a branch deleted after the merge is not missing."""
    ran_on: str = ""
    """The host its session ran on when that was not this machine (an SSH host, a CI runner): the
    branch is looked for on the remotes it was pushed to before any local branch of that name."""

    @property
    def on_github(self) -> bool:
        """Whether the issue is a GitHub issue (not one of a local folder, whose `#7` is not GitHub's)."""
        return "/" in self.issue.rpartition("#")[0]


def member_branches(snapshot: Snapshot, progress: MilestoneProgress) -> tuple[list[MemberBranch], list[str]]:
    """The milestone's issues with a branch to merge, in its order, and the keys with none (closed upstream, never worked here)."""
    members: list[MemberBranch] = []
    without: list[str] = []
    for key in progress.issues:
        task = snapshot.tasks[key]
        good = next((attempt for attempt in reversed(task.history) if attempt.outcome is Outcome.SUCCEEDED), None)
        if good is None or not good.branch:
            without.append(key)
            continue
        branch = good.branch
        session = task.session
        facts = session.facts if session is not None and session.session_id == good.session_id else {}
        members.append(MemberBranch(
            key, f"#{task.issue.number}" if key.rpartition("#")[0] == progress.repo else key, task.issue.title, branch,
            str(facts.get("pr_url", "")), closed_upstream=task.issue.closed,
            ran_on="" if good.executor == "local" else (good.host or good.executor),
        ))
    return members, without


def branch_slug(milestone: str) -> str:
    """A milestone name as one branch name part: `Sprint 3 / API` -> `Sprint-3-API`, `v1.0` stays."""
    slug = _UNSAFE_REF.sub("-", milestone.strip())
    slug = re.sub(r"\.{2,}", ".", slug)
    slug = re.sub(r"-{2,}", "-", slug).strip("-.")
    return slug.removesuffix(".lock") or "milestone"
