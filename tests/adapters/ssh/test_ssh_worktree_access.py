"""What the control center's D and s keys get for a session on an SSH host (a real sshd on 127.0.0.1):
the diff of its branch read by git on the host, and the ssh command that opens a shell in its worktree."""

from __future__ import annotations

import shlex
import subprocess

from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.engine.worktree_access import branch_diff, executor_host, shell_target

from remote_sessions import new_session, on_host
from sshd_server import SshServer


async def test_the_diff_is_read_on_the_host_and_the_shell_is_an_ssh_command(server: SshServer) -> None:
    executor = SshExecutor([server.host()])
    session = new_session(executor, number=12)
    try:
        prepared = await executor.prepare(session)
        worktree = on_host(server, prepared.path)
        (worktree / "notes.md").write_text("written on the host\n")
        subprocess.run(["git", "add", "notes.md"], cwd=worktree, check=True)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "notes"], cwd=worktree, check=True)
        diff = await branch_diff(executor, session)
    finally:
        await executor.close()
    assert " notes.md | 1 +" in diff and "diff --git a/notes.md b/notes.md" in diff and "\n+written on the host\n" in diff

    host = executor_host(executor, session)
    assert host is not None and host.name == "mini-1"
    target = shell_target(session, on_this_machine=False, host=host, label="#12")
    assert not target.folder and target.host == "mini-1"
    assert target.command.startswith("ssh -t -p ") and f"{host.address}" in target.command
    # Typed as printed, it logs in and lands in the worktree (no terminal here, so the shell reads stdin).
    typed = subprocess.run(shlex.split(target.command), input="pwd\nexit\n", capture_output=True, text=True, timeout=60)
    assert typed.stdout.strip().splitlines()[-1] == str(worktree), typed.stderr
