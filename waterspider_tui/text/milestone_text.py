"""Milestone progress and what the integrator made of each milestone, as lines, rows and Markdown.

Shared by `waterspider status`, `waterspider milestone status`, the report and the control
center, so they all say the same thing the same way.
"""

from __future__ import annotations

from typing import Any, Callable

from waterspider_tui.core import events as ev
from waterspider_tui.core.milestones import DoneWhen, MilestoneProgress, milestone_progress
from waterspider_tui.core.scheduler import Plan
from waterspider_tui.core.state import Snapshot

KeyFormat = Callable[[str], str]


def _short(key: str) -> str:
    return "#" + key.rpartition("#")[2]


def integration_words(event: ev.Event | None, show: KeyFormat = _short) -> str:
    """What the integrator last made of a milestone, in a few words; empty when it has not run."""
    match event:
        case ev.MilestoneIntegrated(branch=branch, head=head, gate_ok=gate_ok, pull_request=pull, published=published):
            words = f"integrated into {branch}" + (f" at {head[:10]}" if head else "")
            if gate_ok is not None:
                words += ", gate passed" if gate_ok else ", gate FAILED"
            if pull:
                words += f", pull request #{pull}"
            if "publishing failed" in published:
                words += ", publishing failed"
            return words
        case ev.MilestoneConflict(issue=issue, with_issues=with_issues, with_base=with_base, base=base, files=files):
            others = [show(key) for key in with_issues] + ([f"the base {base}"] if with_base else [])
            named = f"{show(issue)} with {' and '.join(others) or 'the branches before it'}" if issue else "a conflict"
            return f"conflict: {named}" + (f" in {', '.join(files[:5])}" + (" …" if len(files) > 5 else "") if files else "")
        case ev.MilestoneBlocked(reason=reason, issues=issues):
            return f"not integrated: {reason}" + (f" ({', '.join(show(key) for key in issues)})" if issues else "")
    return ""


def _latest(snapshot: Snapshot, progress: MilestoneProgress) -> ev.Event | None:
    """The integrator's latest word on a milestone (a record from an older store has no repository)."""
    return snapshot.integrations.get((progress.repo, progress.name)) or snapshot.integrations.get(("", progress.name))


def _progress_by_plan(snapshot: Snapshot, done_when: DoneWhen, plan: Plan | None) -> list[MilestoneProgress]:
    """Milestone progress with the plan's word on what is blocked, when there is a plan."""
    if plan is None:
        return milestone_progress(snapshot, done_when=done_when)
    return milestone_progress(snapshot, done_when=done_when, cycles=plan.cycles, blocked={item.issue for item in plan.blocked})


def milestone_rows(
    snapshot: Snapshot, *, done_when: DoneWhen = "succeeded", progress: list[MilestoneProgress] | None = None, plan: Plan | None = None,
) -> list[dict[str, Any]]:
    """Each milestone's counts, issues and blocking issues, its integration and whether it was closed, as plain data."""
    rows = []
    for item in progress if progress is not None else _progress_by_plan(snapshot, done_when, plan):
        latest = _latest(snapshot, item)
        closed_by = snapshot.milestones_closed.get((item.repo, item.name))
        rows.append({
            **item.as_dict(), "summary": item.summary(),
            "integration": {"state": latest.type.removeprefix("milestone_"), "words": integration_words(latest), "summary": getattr(latest, "summary", ""),
                            "pull_request": getattr(latest, "pull_request", None)} if latest is not None else None,
            "closed_by_pull_request": closed_by,
        })
    return rows


def milestone_lines(
    snapshot: Snapshot, *, done_when: DoneWhen = "succeeded", show: KeyFormat = _short, name: str | None = None, plan: Plan | None = None,
) -> list[str]:
    """`milestones (2):` then one line per milestone, with its integration (or closing) under it."""
    found = [item for item in _progress_by_plan(snapshot, done_when, plan) if name is None or item.name == name]
    if not found:
        return []
    multi = len({item.repo for item in found}) > 1
    lines = [f"milestones ({len(found)}):"]
    for item in found:
        head = f"{item.repo} " if multi else ""
        lines.append(f"     {head}{item.summary()}")
        closed_by = snapshot.milestones_closed.get((item.repo, item.name))
        words = f"closed: integration pull request #{closed_by} merged" if closed_by else integration_words(_latest(snapshot, item), show)
        if words:
            lines.append(f"       {words}")
    return lines


def milestones_markdown(rows: list[dict[str, Any]]) -> str:
    """The report's `## Milestones` section; empty when no issue has a milestone."""
    if not rows:
        return ""
    lines = ["## Milestones", "", "| Milestone | Done | Running | Blocked | Failed | Total | Blocked by | Integration |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        integration = row["integration"]["words"] if row["integration"] else "–"
        if row["closed_by_pull_request"]:
            integration = f"closed (pull request #{row['closed_by_pull_request']} merged)"
        blocking = ", ".join(_short(key) for key in row["blocking"]) or "–"
        cell = integration.replace("|", "\\|")
        lines.append(f"| {row['milestone']} | {len(row['done'])} | {len(row['running'])} | {len(row['blocked'])} | {len(row['failed'])} | {row['total']} "
                     f"| {blocking} | {cell} |")
    return "\n".join(lines)
