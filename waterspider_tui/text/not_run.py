"""The end-of-run list of issues that did not succeed, one line each while it is short, grouped
and counted when long (a stopped run of thousands prints a screenful, not a thousand lines)."""

from __future__ import annotations

WHOLE_LIST_UP_TO = 20
"""Up to this many lines, every issue gets its own."""
NAMED_PER_GROUP = 5
"""Past that, each group names its first few and counts the rest."""

BLOCKED_GROUPS = {
    "dependency": "waiting on other issues",
    "failed_dependency": "waiting on a failed issue",
    "cycle": "in dependency cycles",
    "paused": "paused by the operator",
    "held": "held",
    "retry_wait": "waiting for a retry",
    "external": "waiting on issues elsewhere",
}
"""A blocked issue's reason (`core.readiness.BlockedTask.reason`) -> the group it is counted in."""


def grouped_lines(entries: list[tuple[str, str]]) -> list[str]:
    """(group, line) pairs as printed: all of them while few, else per group the first
    NAMED_PER_GROUP lines and `  … and N more <group>`, groups in the order first seen."""
    if len(entries) <= WHOLE_LIST_UP_TO:
        return [line for _, line in entries]
    groups: dict[str, list[str]] = {}
    for group, line in entries:
        groups.setdefault(group, []).append(line)
    lines: list[str] = []
    for group, members in groups.items():
        lines += members[:NAMED_PER_GROUP]
        if len(members) > NAMED_PER_GROUP:
            lines.append(f"  … and {len(members) - NAMED_PER_GROUP} more {group}")
    return lines
