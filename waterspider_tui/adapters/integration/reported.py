"""An integration run as the event the store keeps: integrated, a conflict, or blocked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from waterspider_tui.core import events as ev

if TYPE_CHECKING:
    from waterspider_tui.adapters.integration.outcome import Integration

MilestoneReport = ev.MilestoneIntegrated | ev.MilestoneConflict | ev.MilestoneBlocked


def integration_event(
    integration: Integration, repo: str, *, ts: float, published: str = "", pull_request: int | None = None,
    closed_upstream: Sequence[str] = (),
) -> MilestoneReport:
    """The event for what `integration` came to; its `summary` is the line the event log shows."""
    summary = integration.line()
    if closed_upstream:
        summary += "; closed upstream with nothing to merge: " + ", ".join(closed_upstream)
    if published:
        summary += f"; {published}"
    common = {"ts": ts, "repo": repo, "milestone": integration.milestone, "summary": summary}
    if integration.error or integration.missing:
        reason = integration.error or "branch not found"
        return ev.MilestoneBlocked(**common, reason=reason, issues=tuple(member.issue for member in integration.missing))
    conflict = integration.conflict
    if conflict is not None:
        return ev.MilestoneConflict(
            **common, issue=conflict.member.issue, branch=integration.branch, base=integration.base, files=conflict.files,
            with_issues=tuple(member.issue for member in conflict.with_members), with_base=conflict.with_base,
            merge_base=conflict.merge_base, merged=tuple(member.issue for member in conflict.merged),
            not_merged=tuple(member.issue for member in conflict.not_merged), published=published,
        )
    gate = integration.gate
    return ev.MilestoneIntegrated(
        **common, branch=integration.branch, base=integration.base, head=integration.head,
        issues=tuple(member.issue for member in integration.merged), gate_ok=None if gate is None else gate.ok,
        gate_summary="" if gate is None else gate.summary, pull_request=pull_request, published=published,
    )
