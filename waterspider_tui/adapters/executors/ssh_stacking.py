"""A stacked dependant's worktree on an SSH host: its blockers' branches brought there, and how it stacks.

A blocker that ran on the same host left its branch in the host's clone. One that ran on the
orchestrator's machine has its branch only in the orchestrator's repository: that branch goes to
the host over the session's own SSH connection, as a `git bundle` the host fetches from (no other
access between the machines is needed). The bundle leaves out what the orchestrator's remotes
have, which the host's clone fetched too; where the host lacks some of it, the whole history goes.
The host's branch of that name is only ever moved forward, never reset.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh_connection import remote_path
from waterspider_tui.adapters.workspace_stacking import BlockersConflict, conflict_of, merge_message
from waterspider_tui.core.models import SessionInfo

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


def ship_script(repo: str, branches: Sequence[str], git_env: str) -> str:
    refspecs = " ".join(shlex.quote(f"refs/heads/{branch}:refs/heads/{branch}") for branch in branches)
    return SHIP % {"repo": remote_path(repo), "refspecs": refspecs, "git_env": git_env}


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


def conflict_in(lines: Sequence[str], session: SessionInfo, stack: Stack) -> BlockersConflict | None:
    """The blockers' conflict the prepare script reported (`CONFLICT ref`, `FILE f`, `TOUCH ref f`), or None."""
    merging = next((line[9:] for line in lines if line.startswith("CONFLICT ")), None)
    if merging is None:
        return None
    issue_of = {session.base_branch: session.stacked_on, **{branch: issue for issue, branch in session.merged_in}}
    files = tuple(line[5:] for line in lines if line.startswith("FILE "))
    touched = {line[6:].partition(" ")[0] for line in lines if line.startswith("TOUCH ")}
    before = [stack.start, *(ref for ref, _ in stack.merges)]
    before = before[: before.index(merging)] if merging in before else before
    touching = [issue_of[ref] for ref in before if ref in touched] or [issue_of[ref] for ref in before]
    return conflict_of(session.issue, touching, issue_of.get(merging, merging), files)
