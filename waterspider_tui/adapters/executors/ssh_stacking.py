"""A stacked dependant's worktree on an SSH host: its blockers' branches brought there, and how it stacks.

A blocker that ran on the same host left its branch in the host's clone. One that ran on the
orchestrator's machine has its branch only in the orchestrator's repository: that branch goes to
the host over the session's own SSH connection, as a `git bundle` the host fetches from (no other
access between the machines is needed). The bundle leaves out what the orchestrator's remotes
have, which the host's clone fetched too; where the host lacks some of it, the whole history goes.
The host's branch of that name is only ever moved forward, never reset. Before the start, the
merges the worktree will need are tried on the host with `git merge-tree` (`HostStacking.check`),
so a conflict holds the dependant without a session, as on the orchestrator's machine.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh_connection import RemoteResult, remote_path
from waterspider_tui.adapters.executors.ssh_scripts import GIT_ENV
from waterspider_tui.adapters.workspace_stacking import BlockersCheck, BlockersConflict, Merge, conflict_of, merge_message

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig
    from waterspider_tui.core.models import SessionInfo
    from waterspider_tui.core.readiness import StackBase

SHIP = r"""
set -u
repo=%(repo)s
%(git_env)s
cd "$repo" 2>/dev/null || { printf 'REFUSE no clone at %%s\n' "$repo"; exit 3; }
tmp=$(mktemp "${TMPDIR:-/tmp}/waterspider-stack.XXXXXX") || { echo 'REFUSE cannot make a temporary file'; exit 3; }
cat > "$tmp"
out=$(git fetch --quiet "$tmp" %(refspecs)s 2>&1); code=$?
rm -f "$tmp"
if [ "$code" = 0 ]; then echo OK; else printf 'FAILED %%s\n' "$(printf '%%s' "$out" | tr '\n' ' ')"; fi
"""
"""Fetches the bundle on stdin into the host's clone: each branch under its own name, moved forward only."""


CHECK = r"""
set -u
repo=%(repo)s; branch=%(branch)s; start=%(start)s; judged=%(judged)s; base=%(base)s
cd "$repo" 2>/dev/null || { printf 'REFUSE no clone at %%s\n' "$repo"; exit 3; }
shift $#
set -- %(names)s
heads=""
for name in "$@"; do
  head=$(git rev-parse -q --verify "refs/heads/$name^{commit}") || head=""
  printf 'HEAD %%s %%s\n' "$name" "$head"; heads="$heads $name=$head"
done
[ "$heads" != " $judged" ] || { echo UNCHANGED; exit 0; }
git merge-tree -h 2>&1 | grep -q -- --write-tree || { echo UNSUPPORTED; exit 0; }
[ -n "$base" ] || base=$(git symbolic-ref --short -q HEAD) || base=$(git rev-parse HEAD)
if git rev-parse -q --verify "refs/remotes/origin/$base^{commit}" >/dev/null; then base=origin/$base; fi
current=$(git rev-parse -q --verify "refs/heads/$branch^{commit}") || current=$(git rev-parse -q --verify "refs/heads/$start^{commit}") || { echo UNSUPPORTED; exit 0; }
before=$start
shift $#
set -- %(merges)s
for ref in "$@"; do
  if ! git merge-base --is-ancestor "refs/heads/$ref" "$current" 2>/dev/null; then
    out=$(git merge-tree --write-tree --name-only --no-messages "$current" "refs/heads/$ref"); code=$?
    tree=$(printf '%%s\n' "$out" | head -n 1)
    if [ "$code" = 1 ]; then
      printf 'CONFLICT %%s\n' "$ref"
      printf '%%s\n' "$out" | tail -n +2 | while IFS= read -r file; do
        [ -n "$file" ] || continue
        printf 'FILE %%s\n' "$file"
        for earlier in $before; do
          git diff --quiet "$base...refs/heads/$earlier" -- "$file" 2>/dev/null || printf 'TOUCH %%s %%s\n' "$earlier" "$file"
        done
      done
      exit 0
    fi
    [ "$code" = 0 ] || { echo UNSUPPORTED; exit 0; }
    current=$(git -c user.name=waterspider -c user.email=waterspider@localhost commit-tree "$tree" -p "$current" -p "refs/heads/$ref" -m check)
  fi
  before="$before $ref"
done
echo CLEAN
"""
"""What the host's prepare would meet, found with `git merge-tree` (git 2.38 and later; `UNSUPPORTED`
before, and prepare tells): the heads judged (`HEAD name commit`), then `UNCHANGED`, `CLEAN`, or the
conflict as prepare tells it. Nothing is written but unreferenced objects."""


@dataclass(frozen=True)
class Stack:
    """How a session's worktree stacks: the ref its new branch starts from, and the (ref, merge message) merged in."""

    start: str = ""
    merges: tuple[tuple[str, str], ...] = ()


def stack_of(session: SessionInfo) -> Stack:
    """The session's stacking as the host's prepare script takes it (an empty Stack: from the base)."""
    if not session.stacked_on or not session.base_branch:
        return Stack()
    merges = tuple((branch, merge_message(branch, issue, session.branch, session.issue)) for issue, branch in session.merged_in)
    return Stack(session.base_branch, merges)


def stack_arguments(stack: Stack) -> str:
    """The prepare script's arguments after the worktree and branch: start, then ref and message pairs."""
    pairs = " ".join(f"{shlex.quote(ref)} {shlex.quote(message)}" for ref, message in stack.merges)
    return f"{shlex.quote(stack.start)} {pairs}".rstrip()


def ship_script(repo: str, branches: Sequence[str]) -> str:
    refspecs = " ".join(shlex.quote(f"refs/heads/{branch}:refs/heads/{branch}") for branch in branches)
    return SHIP % {"repo": remote_path(repo), "refspecs": refspecs, "git_env": GIT_ENV}


def bundle_of(repo: Path, branches: Sequence[str], *, whole: bool = False) -> bytes:
    """A bundle of `branches` of the repository at `repo`: without what its remotes have, unless `whole`
    (or nothing would be left: every commit is on a remote already). Blocking; run it in a thread."""
    with tempfile.TemporaryDirectory(prefix="waterspider-bundle-") as folder:
        path = Path(folder) / "stack.bundle"
        refs = [f"refs/heads/{branch}" for branch in branches]
        for args in ([] if whole else [["--not", "--remotes"]]) + [[]]:
            done = subprocess.run(["git", "bundle", "create", "-q", str(path), *refs, *args], cwd=repo, capture_output=True, text=True)
            if done.returncode == 0:
                return path.read_bytes()
        raise ExecutorError(f"cannot bundle {', '.join(branches)} in {repo}: {done.stderr.strip()}", error_class="workspace")


def check_script(repo: str, branch: str, stacked: Sequence[Merge], judged: Sequence[tuple[str, str]], base: str = "") -> str:
    """The CHECK script for a dependant's branch and its stacked blockers (issue, branch), the first
    the start; `base` is the host's configured base branch (its default branch when empty)."""
    names = [branch, *(name for _, name in stacked)]
    return CHECK % {
        "repo": remote_path(repo), "branch": shlex.quote(branch), "start": shlex.quote(stacked[0][1]), "base": shlex.quote(base),
        "judged": shlex.quote(" ".join(f"{name}={head}" for name, head in judged)),
        "names": " ".join(shlex.quote(name) for name in names), "merges": " ".join(shlex.quote(name) for _, name in stacked[1:]),
    }


def heads_in(lines: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The `HEAD name commit` lines of the CHECK script ('' for a branch the host lacks)."""
    found = [line[5:].partition(" ") for line in lines if line.startswith("HEAD ")]
    return tuple((name, head.strip()) for name, _, head in found)


def local_heads(repo: Path, branches: Sequence[str]) -> dict[str, str]:
    """Each branch's commit in the repository at `repo` ('' where it is missing). Blocking."""
    heads = {}
    for branch in branches:
        done = subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/heads/{branch}^{{commit}}"], cwd=repo, capture_output=True, text=True)
        heads[branch] = done.stdout.strip() if done.returncode == 0 else ""
    return heads


def conflict_in(lines: Sequence[str], dependant: str, stacked: Sequence[Merge]) -> BlockersConflict | None:
    """The blockers' conflict a script reported (`CONFLICT ref`, `FILE f`, `TOUCH ref f`), or None;
    `stacked` is the dependant's blockers as (issue, branch), the first the one it starts from."""
    merging = next((line[9:] for line in lines if line.startswith("CONFLICT ")), None)
    if merging is None:
        return None
    issue_of = {branch: issue for issue, branch in stacked}
    files = tuple(line[5:] for line in lines if line.startswith("FILE "))
    touched = {line[6:].partition(" ")[0] for line in lines if line.startswith("TOUCH ")}
    before = [branch for _, branch in stacked]
    before = before[: before.index(merging)] if merging in before else before
    touching = [issue_of[ref] for ref in before if ref in touched] or [issue_of[ref] for ref in before]
    return conflict_of(dependant, touching, issue_of.get(merging, merging), files)


def stacked_of(session: SessionInfo) -> list[Merge]:
    """The session's blockers as (issue, branch), the one its branch starts from first."""
    return [(session.stacked_on, session.base_branch), *session.merged_in] if session.stacked_on else []


RunOnHost = Callable[[str, str, bytes], Awaitable[RemoteResult]]
"""(host, script, stdin) -> the script's result on that host."""


class HostStacking:
    """Stacked dependants' branches on an SSH executor's hosts: the orchestrator's brought there, and
    the merges a dependant's worktree will need tried on the host before its session exists."""

    def __init__(
        self, executor: str, local_repo: Path | None, local_executor: str, config: Callable[[str], HostConfig], run: RunOnHost,
    ) -> None:
        self.executor = executor
        self.local_repo = local_repo
        """The orchestrator's repository, where blockers that ran on its machine left their branches."""
        self.local_executor = local_executor
        self.config = config
        self.run = run

    def stacks_from(self, base: StackBase, host: str) -> bool:
        """A branch made on that host, or one in the orchestrator's repository (brought over at prepare)."""
        return (base.executor, base.host) == (self.executor, host) or (self.local_repo is not None and base.executor == self.local_executor)

    async def ship(self, host: str, branches: Sequence[str]) -> None:
        """The orchestrator's branches into the host's clone, over its SSH connection."""
        if self.local_repo is None:
            raise ExecutorError(f"{host}: {', '.join(branches)} are on the orchestrator's machine, whose repository is not known here", error_class="workspace")
        config = self.config(host)
        said = ""
        for whole in (False, True):
            bundle = await asyncio.to_thread(bundle_of, self.local_repo, branches, whole=whole)
            result = await self.run(host, ship_script(config.repo_path, branches), bundle)
            said = result.text.strip() or result.error_text.strip()
            if said == "OK":
                return
            if said.startswith("REFUSE "):
                break
        raise ExecutorError(
            f"{host}: bringing {', '.join(branches)} from the orchestrator's repository failed: {said.removeprefix('REFUSE ').removeprefix('FAILED ')}",
            error_class="workspace",
        )

    async def check(
        self, host: str, branch: str, dependant: str, stacked: Sequence[Merge], unless_heads: tuple[tuple[str, str], ...], shipped: Sequence[str],
    ) -> BlockersCheck:
        """Whether `stacked` (issue, branch; the first the start) merge for `branch` in `host`'s clone,
        the orchestrator's branches (`shipped`) brought there first when they changed. A host whose
        git cannot tell (before 2.38) answers as if they merge, and prepare tells."""
        if shipped and self.local_repo is not None:
            judged = dict(unless_heads)
            local = await asyncio.to_thread(local_heads, self.local_repo, shipped)
            if any(judged.get(name) != head for name, head in local.items()):
                await self.ship(host, shipped)
                unless_heads = ()
        config = self.config(host)
        result = await self.run(host, check_script(config.repo_path, branch, stacked, unless_heads, config.base_branch), b"")
        lines = result.text.splitlines()
        refused = next((line[7:] for line in lines if line.startswith("REFUSE ")), None)
        if refused is not None:
            raise ExecutorError(f"{host}: {refused}", error_class="workspace")
        heads = heads_in(lines)
        if "UNCHANGED" in lines:
            return BlockersCheck(heads, judged=False)
        return BlockersCheck(heads, conflict_in(lines, dependant, stacked))
