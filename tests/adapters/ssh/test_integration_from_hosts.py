"""Milestone integration of branches still only in an SSH host's clone (a real sshd on 127.0.0.1): the
branch is brought over the host's SSH connection; a host that cannot be reached is named with why."""

from __future__ import annotations

import subprocess
from pathlib import Path

from waterspider_tui.adapters.integration import BranchIntegrator, MemberBranch
from waterspider_tui.adapters.integration.host_branches import HostBranches

from sshd_server import SshServer

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _work_on_host(clone: Path) -> str:
    """Issue 1's commit on feature/issue-1 in the host's clone, never pushed anywhere."""
    git(clone, "switch", "-q", "-c", "feature/issue-1")
    (clone / "one.py").write_text("ONE = 1\n")
    git(clone, "add", "one.py")
    git(clone, "commit", "-q", "-m", "Issue 1")
    head = git(clone, "rev-parse", "HEAD")
    git(clone, "switch", "-q", "main")
    return head


async def test_a_branch_left_in_a_hosts_clone_is_brought_over_ssh_and_integrated(server: SshServer, origin: Path, tmp_path: Path) -> None:
    head = _work_on_host(server.home / "src" / "repo")
    here = tmp_path / "here"
    git(tmp_path, "clone", "-q", str(origin), str(here))
    member = MemberBranch("local#1", "#1", "Task 1", "feature/issue-1", ran_on="mini-2")
    integrator = BranchIntegrator(here, "main", host_branches=HostBranches([server.host("mini-2")]))
    result = await integrator.integrate("v1.0", [member])
    assert result.ok, result.line()
    assert git(here, "merge-base", "--is-ancestor", head, "integration/v1.0") == ""
    assert (here / ".worktrees" / "integration-v1.0" / "one.py").read_text() == "ONE = 1\n"

    server.stop()
    git(here, "update-ref", "-d", "refs/waterspider/hosts/mini-2/feature/issue-1")
    again = await BranchIntegrator(here, "main", host_branches=HostBranches([server.host("mini-2", connect_timeout_s=1.0)])).integrate("v1.0", [member])
    assert not again.ok
    line = again.line()
    assert "branch not found for #1 (feature/issue-1): it ran on mini-2, and is neither in this repository nor on origin" in line
    assert "nor in mini-2's clone: mini-2" in line
