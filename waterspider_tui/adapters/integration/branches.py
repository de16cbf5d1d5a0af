"""Build `integration/<milestone>` from the base by merging the issues' branches in order; report a conflict exactly.

The branch is built in its own worktree (`.worktrees/integration-<milestone>`), so the operator's
checkout is never touched. Merges are `--no-ff`, one per issue, so the branch's history reads
as the list of issues. A conflict stops the build and is never resolved here: the report names
the issue being merged, the already merged issues (or the base) that changed the same files,
the files, and the merge base, and says what the operator can do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from waterspider_tui.adapters.integration.git_commands import GitFailed, git, must
from waterspider_tui.adapters.integration.members import MemberBranch, branch_slug
from waterspider_tui.adapters.integration.outcome import Conflict, Integration
from waterspider_tui.adapters.workspace_exclude import add_exclude, exclude_entry

if TYPE_CHECKING:
    from waterspider_tui.adapters.integration.gate_hook import IntegrationGate
    from waterspider_tui.adapters.integration.host_branches import HostBranches

FALLBACK_IDENTITY = ("-c", "user.name=waterspider", "-c", "user.email=waterspider@localhost")


@dataclass
class BranchIntegrator:
    """Merges member branches onto the base in a worktree of its own; safe to run again (it rebuilds or reuses)."""

    repo_path: Path
    base_branch: str
    prefix: str = "integration/"
    worktrees_dir: str = ".worktrees"
    remote: str = ""
    """Fetch members and the base from it, and push the result to it; empty: local branches only."""
    host_branches: HostBranches | None = None
    """Brings a branch found nowhere else from the clone of the SSH host its session ran on."""
    _identity: tuple[str, ...] | None = field(default=None, repr=False)

    def branch_for(self, milestone: str) -> str:
        return self.prefix + branch_slug(milestone)

    def worktree_for(self, milestone: str) -> Path:
        return Path(self.repo_path) / self.worktrees_dir / f"integration-{branch_slug(milestone)}"

    async def integrate(self, milestone: str, members: Sequence[MemberBranch], gate: IntegrationGate | None = None) -> Integration:
        """Build (or reuse) the branch, run the gate on it, push it; never raises for git's failures."""
        branch = self.branch_for(milestone)
        try:
            return await self._integrate(milestone, branch, list(members), gate)
        except GitFailed as error:
            return Integration(milestone, branch, self.base_branch, error=str(error))

    async def _integrate(self, milestone: str, branch: str, members: list[MemberBranch], gate: IntegrationGate | None) -> Integration:
        repo = Path(self.repo_path)
        if self.remote:
            await self._fetch([member.branch for member in members])
        base = self._ref(self.base_branch)
        remotes = [self.remote] if self.remote else await self._remotes()
        found = {member.issue: await self._locate(member, remotes) for member in members}
        absent = [member for member in members if found[member.issue] is None]
        missing = tuple(member for member in absent if not member.closed_upstream)
        if missing:
            why = self.host_branches.why_not if self.host_branches is not None else {}
            notes = tuple((member.issue, why[(member.ran_on, member.branch)]) for member in missing if (member.ran_on, member.branch) in why)
            return Integration(milestone, branch, self.base_branch, missing=missing, looked_in=tuple(remotes), host_notes=notes)
        refs = {issue: ref for issue, ref in found.items() if ref is not None}
        skipped = tuple(absent)
        members = [member for member in members if member not in skipped]
        worktree = self.worktree_for(milestone)
        reused = await self._holds_all(branch, base, list(refs.values()))
        await self._checkout(worktree, branch, base, reset=not reused)
        merged: list[MemberBranch] = list(members) if reused else []
        if not reused:
            for index, member in enumerate(members):
                conflict = await self._merge(worktree, member, refs, base, merged, members[index:])
                if conflict is not None:
                    return Integration(milestone, branch, self.base_branch, (await must(worktree, "rev-parse", "HEAD")).stdout.strip(), tuple(merged), conflict)
                merged.append(member)
        head = (await must(worktree, "rev-parse", "HEAD")).stdout.strip()
        verdict = await gate.check(worktree, branch, base) if gate is not None else None
        pushed = ""
        if self.remote and (verdict is None or verdict.ok):
            await must(repo, "push", "--force", self.remote, f"refs/heads/{branch}:refs/heads/{branch}")
            pushed = self.remote
        return Integration(milestone, branch, self.base_branch, head, tuple(merged), reused=reused, gate=verdict, pushed_to=pushed, skipped=skipped)

    async def _fetch(self, branches: list[str]) -> None:
        """The base and the members from the remote; one fetch, or one per branch when some are gone there."""
        repo = Path(self.repo_path)
        await must(repo, "fetch", "--no-tags", self.remote, self.base_branch)
        if branches and not (await git(repo, "fetch", "--no-tags", self.remote, *branches)).ok:
            for branch in branches:
                await git(repo, "fetch", "--no-tags", self.remote, branch)

    async def _remotes(self) -> list[str]:
        """The repository's remotes, `origin` first."""
        names = (await git(Path(self.repo_path), "remote")).lines()
        return sorted(names, key=lambda name: name != "origin")

    async def _locate(self, member: MemberBranch, remotes: list[str]) -> str | None:
        """Where the member's branch is: a local branch, or a remote's (fetched now when no `remote` is
        set, from where its host pushed it). A session that ran elsewhere is looked for on the remotes
        first (a local branch of that name may be an older attempt's), one that ran here locally first."""
        repo = Path(self.repo_path)
        local = f"refs/heads/{member.branch}"

        async def on_remote() -> str | None:
            for name in remotes:
                tracking = f"refs/remotes/{name}/{member.branch}"
                if not self.remote:  # fetched by name: only this branch, and a branch gone there is no failure
                    fetched = await git(repo, "fetch", "--no-tags", name, f"+refs/heads/{member.branch}:{tracking}")
                    if not fetched.ok and "couldn't find remote ref" in fetched.error():
                        continue  # deleted there: a remote-tracking ref left from before is not its work now
                if await self._exists(tracking):
                    return tracking
            return None

        if self.remote or member.ran_on:
            found = await on_remote() or (local if await self._exists(local) else None)
        else:
            found = local if await self._exists(local) else await on_remote()
        if found is None and member.ran_on and self.host_branches is not None:
            known = (await git(repo, "rev-parse", "--verify", "--quiet", self._ref(self.base_branch) + "^{commit}")).stdout.strip()
            found = await self.host_branches.fetch(repo, member.ran_on, member.branch, known)
        return found

    async def _exists(self, ref: str) -> bool:
        return (await git(Path(self.repo_path), "rev-parse", "--verify", "--quiet", ref + "^{commit}")).ok

    def _ref(self, branch: str) -> str:
        return f"refs/remotes/{self.remote}/{branch}" if self.remote else f"refs/heads/{branch}"

    async def _holds_all(self, branch: str, base: str, refs: list[str]) -> bool:
        repo = Path(self.repo_path)
        if not (await git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")).ok:
            return False
        for ref in [base, *refs]:
            if not (await git(repo, "merge-base", "--is-ancestor", ref, f"refs/heads/{branch}")).ok:
                return False
        return True

    async def _checkout(self, worktree: Path, branch: str, base: str, *, reset: bool) -> None:
        """Our worktree on the integration branch: made again from the base when `reset`.

        A folder in the way that is not a worktree of this repository is never removed.
        """
        repo = Path(self.repo_path)
        listed = (await must(repo, "worktree", "list", "--porcelain")).stdout
        registered = any(line == f"worktree {worktree.resolve()}" for line in listed.splitlines()) if worktree.exists() else False
        if worktree.exists() and not registered:
            raise GitFailed(f"{worktree} is in the way and is not one of this repository's worktrees; move it away")
        if registered:
            await must(repo, "worktree", "remove", "--force", str(worktree))
        worktree.parent.mkdir(parents=True, exist_ok=True)
        await self._keep_out_of_status(worktree.parent)
        if reset:
            await must(repo, "worktree", "add", "--force", "-B", branch, str(worktree), base)
        else:
            await must(repo, "worktree", "add", "--force", str(worktree), branch)

    async def _keep_out_of_status(self, folder: Path) -> None:
        """The worktrees folder in `.git/info/exclude`, as a local session puts it: a run whose sessions
        were all on other hosts made none here, and `git add -A` would commit the integration worktree."""
        repo = Path(self.repo_path)
        top = (await git(repo, "rev-parse", "--show-toplevel")).stdout.strip()
        exclude_file = (await git(repo, "rev-parse", "--path-format=absolute", "--git-path", "info/exclude")).stdout.strip()
        entry = exclude_entry(Path(top), folder) if top and exclude_file else None
        if entry is not None:
            add_exclude(Path(exclude_file), entry)

    async def _merge(
        self, worktree: Path, member: MemberBranch, refs: dict[str, str], base: str,
        merged: list[MemberBranch], rest: list[MemberBranch],
    ) -> Conflict | None:
        ref = refs[member.issue]
        message = f"Merge {member.label} {member.title} ({member.branch})"
        result = await git(worktree, *(await self.identity_args()), "merge", "--no-ff", "--no-edit", "-m", message, ref)
        if result.ok:
            return None
        files = tuple(sorted((await git(worktree, "diff", "--name-only", "--diff-filter=U")).lines()))
        merge_base = (await git(worktree, "merge-base", "HEAD", ref)).stdout.strip()[:10]
        await git(worktree, "merge", "--abort")
        if not files:
            raise GitFailed(f"merging {member.label} ({member.branch}) failed: {result.error()}")
        touched = set(files)
        with_members = [other for other in merged if touched & await self._own_changes(other, merged, refs, base)]
        with_base = bool(touched & await self._changed(base, ref))
        return Conflict(member, files, tuple(with_members), with_base, merge_base, tuple(merged), tuple(rest))

    async def _own_changes(self, member: MemberBranch, merged: list[MemberBranch], refs: dict[str, str], base: str) -> set[str]:
        """Files `member`'s own commits changed: a branch stacked on an earlier issue's is counted from that issue's tip,
        so the earlier issue's work is not charged to it as well."""
        repo = Path(self.repo_path)
        since = base
        for earlier in merged[: merged.index(member)]:
            if (await git(repo, "merge-base", "--is-ancestor", refs[earlier.issue], refs[member.issue])).ok:
                since = refs[earlier.issue]
        return await self._changed(refs[member.issue], since)

    async def _changed(self, ref: str, other: str) -> set[str]:
        """Files `ref` changed since it and `other` parted."""
        repo = Path(self.repo_path)
        fork = (await git(repo, "merge-base", ref, other)).stdout.strip()
        if not fork:
            return set()
        return set((await git(repo, "diff", "--name-only", fork, ref)).lines())

    async def identity_args(self) -> tuple[str, ...]:
        """The repository's own identity for merge commits, else a waterspider one (never written to config)."""
        if self._identity is None:
            email = await git(Path(self.repo_path), "config", "user.email")
            self._identity = () if email.ok and email.stdout.strip() else FALLBACK_IDENTITY
        return self._identity
