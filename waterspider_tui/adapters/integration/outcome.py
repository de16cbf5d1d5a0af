"""What an integration run came to: the issues merged, or the conflict that stopped it, and the gate's verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from waterspider_tui.adapters.integration.gate_hook import GateVerdict
    from waterspider_tui.adapters.integration.members import MemberBranch

_LOCKED = re.compile(r"\.lock\b|cannot lock|could not lock|unable to lock", re.IGNORECASE)


@dataclass(frozen=True)
class Conflict:
    """Why one issue's branch could not be merged onto the ones before it."""

    member: MemberBranch
    files: tuple[str, ...]
    with_members: tuple[MemberBranch, ...]
    """Issues merged before it whose branches changed the same files."""
    with_base: bool
    """The base changed the same files since the issue's branch left it."""
    merge_base: str
    """The common ancestor of the integration branch and the issue's branch (short hash)."""
    merged: tuple[MemberBranch, ...]
    not_merged: tuple[MemberBranch, ...]
    """This issue and every one after it."""

    def others(self, base: str) -> str:
        names = [f"{member.label} ({member.branch})" for member in self.with_members]
        if self.with_base:
            names.append(f"the base {base}")
        return " and ".join(names) or "the branches merged before it"

    def describe(self, branch: str, base: str) -> str:
        """One paragraph for a warning line, a comment or a message."""
        files = ", ".join(self.files[:10]) + (f" and {len(self.files) - 10} more" if len(self.files) > 10 else "")
        return (
            f"{self.member.label} ({self.member.branch}) conflicts with {self.others(base)} in {files} "
            f"(merge base {self.merge_base}); merged before it: {', '.join(member.label for member in self.merged) or 'nothing'}; "
            f"not merged: {', '.join(member.label for member in self.not_merged)}. Nothing was resolved. "
            f"To fix: requeue {self.member.label} to redo it on top of {branch} (the agent resolves the conflict), "
            f"or merge it by hand (git switch {branch} && git merge {self.member.branch}), then the next success integrates again."
        )


@dataclass(frozen=True)
class Integration:
    """What one integration run did."""

    milestone: str
    branch: str
    base: str
    head: str = ""
    merged: tuple[MemberBranch, ...] = ()
    conflict: Conflict | None = None
    missing: tuple[MemberBranch, ...] = ()
    """Members whose branch was not found (nothing was merged then)."""
    skipped: tuple[MemberBranch, ...] = ()
    """Members closed upstream whose branch is gone (merged and deleted there): nothing to merge."""
    reused: bool = False
    """The branch already held the base and every issue's work: it was left as it was."""
    gate: GateVerdict | None = None
    pushed_to: str = ""
    error: str = ""
    looked_in: tuple[str, ...] = ()
    """The remotes the missing branches were looked for on."""
    host_notes: tuple[tuple[str, str], ...] = ()
    """(issue, why) for missing branches the host they ran on could not give."""

    @property
    def ok(self) -> bool:
        return not (self.conflict or self.missing or self.error) and (self.gate is None or self.gate.ok)

    @property
    def retryable(self) -> bool:
        """git failed on a lock another git process held (a session's worktree being made): worth trying again."""
        return bool(_LOCKED.search(self.error))

    def _missing(self, member: MemberBranch) -> str:
        """A missing branch, and where it was looked for when its session ran elsewhere."""
        named = f"{member.label} ({member.branch})"
        if not member.ran_on:
            return named
        remotes = " or ".join(self.looked_in) or "a remote (this repository has none)"
        from_host = dict(self.host_notes).get(member.issue)
        return f"{named}: it ran on {member.ran_on}, and is neither in this repository nor on {remotes}" + (
            f", nor in {member.ran_on}'s clone: {from_host}" if from_host else " (the push step sends it there)")

    def line(self) -> str:
        """One line for the event log."""
        head = f"milestone {self.milestone}: "
        if self.error:
            return head + f"integration failed: {self.error}"
        if self.missing:
            return head + "not integrated: branch not found for " + ", ".join(self._missing(member) for member in self.missing)
        if self.conflict is not None:
            return head + "conflict: " + self.conflict.describe(self.branch, self.base)
        text = head + f"{len(self.merged)} issues integrated into {self.branch} at {self.head[:10]}" + (" (already up to date)" if self.reused else "")
        if self.gate is not None:
            # the gate step's summary already begins "gate passed:" / "gate failed:"; FAILED in capitals stays for readers of older stores
            verdict = self.gate.summary.removeprefix("gate passed: ").removeprefix("gate failed: ")
            text += f"; gate {'passed' if self.gate.ok else 'FAILED'}: {verdict}"
        if self.skipped:
            text += "; merged upstream already: " + ", ".join(member.label for member in self.skipped)
        if self.pushed_to:
            text += f"; pushed to {self.pushed_to}"
        return text
