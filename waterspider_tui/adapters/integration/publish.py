"""An integration on GitHub: one pull request listing every issue, or the list in the milestone's description.

GitHub milestones take no comments, so "comment on the milestone" is a section of its
description between markers, replaced on each run. A conflict is also told on the issue that
could not be merged, in one comment edited in place. Every write looks before it writes, so a
batch offered again after a restart updates what is there instead of adding to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Sequence

from waterspider_tui.adapters.github.pull_requests import PullRequests

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.adapters.integration.members import MemberBranch
    from waterspider_tui.adapters.integration.outcome import Integration

PublishMode = Literal["pull_request", "milestone"]
START, END = "<!-- waterspider:integration -->", "<!-- /waterspider:integration -->"


def integration_body(integration: Integration, closed_upstream: Sequence[str] = ()) -> str:
    """The pull request's body (or the milestone's section): every issue and its pull request, in merge order."""
    lines = [
        f"Integration of milestone **{integration.milestone}**: {len(integration.merged)} issues merged into "
        f"`{integration.branch}` from `{integration.base}`, in dependency order.",
        "",
        "| | Issue | Branch | Pull request |",
        "|---|---|---|---|",
    ]
    for index, member in enumerate(integration.merged, 1):
        pull = member.pull_request or "—"
        lines.append(f"| {index} | {_named(member)} {_cell(member.title)} | `{member.branch}` | {pull} |")
    if closed_upstream:
        lines += ["", "Closed upstream without a branch here (nothing to merge): " + ", ".join(closed_upstream)]
    if integration.gate is not None:
        lines += ["", f"**Gate {'passed' if integration.gate.ok else 'failed'}**: {_cell(integration.gate.summary)}"]
        if not integration.gate.ok and integration.gate.output:
            lines += ["", "```", integration.gate.output[-3000:], "```"]
    if integration.conflict is not None:
        lines += ["", "**Conflict**: " + integration.conflict.describe(integration.branch, integration.base)]
    lines += ["", f"<!-- waterspider:milestone={integration.milestone} -->"]
    return "\n".join(lines)


def conflict_comment(integration: Integration) -> str:
    conflict = integration.conflict
    assert conflict is not None
    files = "\n".join(f"- `{path}`" for path in conflict.files)
    return (
        f"{_marker(integration.milestone)}\n**Milestone {integration.milestone}**: this issue's branch `{conflict.member.branch}` "
        f"conflicts with {conflict.others(integration.base)} while building `{integration.branch}` "
        f"(merge base `{conflict.merge_base}`).\n\nFiles in conflict:\n{files}\n\n"
        f"Nothing was resolved automatically. Requeue this issue to redo it on top of `{integration.branch}` "
        f"(the agent resolves the conflict), or merge it by hand: `git switch {integration.branch} && git merge {conflict.member.branch}`."
    )


class MilestonePublisher:
    """Writes an integration's outcome to GitHub through the shared client (one rate limit)."""

    def __init__(self, client: GitHubClient, *, mode: PublishMode = "pull_request", draft: bool = False, labels: Sequence[str] = ()) -> None:
        self.client = client
        self.mode: PublishMode = mode
        self.draft = draft
        self.labels = list(labels)
        self.pulls = PullRequests(client)

    async def publish(self, repo: str, integration: Integration, closed_upstream: Sequence[str] = ()) -> str:
        """Write what the integration came to; returns it as a phrase for the event log."""
        return (await self.publish_outcome(repo, integration, closed_upstream))[0]

    async def publish_outcome(self, repo: str, integration: Integration, closed_upstream: Sequence[str] = ()) -> tuple[str, int | None]:
        """Write what the integration came to; returns it as a phrase, and the milestone pull request's number if one was written.

        A conflict is told on the issue that could not be merged (and in the milestone's
        description in that mode); a branch whose gate failed gets no pull request.
        """
        if integration.error or integration.missing:
            return "nothing published", None
        body = integration_body(integration, closed_upstream)
        written: list[str] = []
        number: int | None = None
        if integration.conflict is not None and integration.conflict.member.on_github:
            await self._comment_conflict(repo, integration)
            written.append(f"conflict told on {integration.conflict.member.label}")
        if self.mode == "milestone":
            written.append(await self._describe_milestone(repo, integration.milestone, body))
        elif integration.conflict is None and not integration.ok:
            written.append("no pull request: the gate failed on the integrated branch")
        elif integration.conflict is None:
            title = f"Milestone {integration.milestone}: {len(integration.merged)} issues integrated"
            pull, opened = await self.pulls.open_or_update(repo, integration.branch, integration.base, title, body, draft=self.draft)
            await self.pulls.add_labels(repo, pull.number, self.labels)
            number = pull.number
            written.append(f"pull request #{pull.number} {'opened' if opened else 'updated'} ({pull.url})")
        return "; ".join(written), number

    async def _describe_milestone(self, repo: str, milestone: str, section: str) -> str:
        items, _ = await self.client.paginate(f"/repos/{repo}/milestones", {"state": "all", "per_page": 100})
        found = next((item for item in items if isinstance(item, dict) and item.get("title") == milestone), None)
        if found is None:
            return f"no GitHub milestone titled {milestone!r} in {repo} to describe"
        description = str(found.get("description") or "")
        before, _, rest = description.partition(START)
        after = rest.partition(END)[2] if rest else ""
        updated = f"{before.rstrip()}\n\n{START}\n{section}\n{END}{after}".strip()
        if updated != description.strip():
            await self.client.patch(f"/repos/{repo}/milestones/{found['number']}", {"description": updated})
        return f"milestone {milestone!r} description updated"

    async def _comment_conflict(self, repo: str, integration: Integration) -> None:
        conflict = integration.conflict
        assert conflict is not None
        number = int(conflict.member.issue.rpartition("#")[2])
        body = conflict_comment(integration)
        comments, _ = await self.client.paginate(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100})
        mine = next((item for item in comments if isinstance(item, dict) and str(item.get("body", "")).startswith(_marker(integration.milestone))), None)
        if mine is None:
            await self.client.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})
        elif mine.get("body") != body:
            await self.client.patch(f"/repos/{repo}/issues/comments/{mine['id']}", {"body": body})


def _named(member: MemberBranch) -> str:
    """`#7` for a GitHub issue; a local folder's issue without a `#` GitHub would link to its own #7."""
    return member.label if member.on_github else f"Local issue {member.issue.rpartition('#')[2]}:"


def _marker(milestone: str) -> str:
    return f"<!-- waterspider:integration={milestone} -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
