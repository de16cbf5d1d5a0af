"""A session on an SSH host end to end: worktree in the host's clone, detached agent, output, exit, commit, stop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh import SshExecutor

from remote_sessions import living_members, new_session, on_host, read_all, spec
from sshd_server import SshServer


async def test_a_session_runs_on_the_host_its_output_is_read_and_its_commit_lands_on_the_branch(server: SshServer) -> None:
    executor = SshExecutor([server.host()])
    session = new_session(executor)
    try:
        workspace = await executor.prepare(session)
        assert workspace.path == str(server.home / "src/repo/.worktrees/issue-7") and workspace.branch == "feature/issue-7"
        assert workspace.base == "origin/main" and not workspace.reused
        script = 'echo "line one"; echo "home=$HOME spec=$WS_FROM_SPEC"; git commit -q --allow-empty -m "work on 7"; echo done'
        pid = await executor.start(session, spec(workspace.path, script))
        status = await asyncio.wait_for(executor.wait(session), 10)
        assert pid and status.returncode == 0, (on_host(server, executor.session_dir(session)) / "stderr.log").read_text()
        assert await read_all(executor, session) == f"line one\nhome={server.home} spec=spec\ndone\n".encode()
        clone = server.home / "src/repo"
        log = subprocess.run(["git", "log", "-1", "--format=%s", "feature/issue-7"], cwd=clone, capture_output=True, text=True).stdout
        assert log.strip() == "work on 7"
        result = await executor.git(session, "log", "-1", "--format=%s")
        assert (result.returncode, result.stdout.strip()) == (0, "work on 7")
        again = await executor.prepare(session)
        assert again.reused and again.path == workspace.path
        assert (await executor.state(session)).exit == status
    finally:
        await executor.close()


async def test_the_specs_files_and_stdin_reach_the_agent_and_host_variables_win(server: SshServer) -> None:
    executor = SshExecutor([server.host(env={"WS_HOST_ONLY": "host"})])
    session = new_session(executor, number=8)
    try:
        workspace = await executor.prepare(session)
        script = 'read first; echo "stdin=$first host=$WS_HOST_ONLY path_ok=$(command -v git)"'
        agent = spec(workspace.path, script, files={"prompt.md": "fix the bug\nplease\n"}, stdin_file="prompt.md")
        await executor.start(session, agent)
        status = await asyncio.wait_for(executor.wait(session), 10)
        assert status.returncode == 0
        assert await read_all(executor, session) == b"stdin=fix the bug host=host path_ok=/usr/bin/git\n"
        prompt = on_host(server, executor.session_dir(session)) / "prompt.md"
        assert prompt.read_text() == "fix the bug\nplease\n" and prompt.stat().st_mode & 0o077 == 0
    finally:
        await executor.close()


async def test_starting_twice_never_makes_a_second_agent(server: SshServer) -> None:
    executor = SshExecutor([server.host()])
    session = new_session(executor, number=9)
    try:
        workspace = await executor.prepare(session)
        first = await executor.start(session, spec(workspace.path, "echo once; sleep 0.5"))
        second = await executor.start(session, spec(workspace.path, "echo twice"))
        assert first == second
        await asyncio.wait_for(executor.wait(session), 10)
        assert await read_all(executor, session) == b"once\n"
    finally:
        await executor.close()


async def test_stop_ends_the_whole_group_even_a_child_that_ignores_sigterm(server: SshServer) -> None:
    executor = SshExecutor([server.host()])
    session = new_session(executor, number=10)
    try:
        workspace = await executor.prepare(session)
        script = "trap '' TERM; sh -c \"trap '' TERM; sleep 60\" & echo up; wait"
        pid = await executor.start(session, spec(workspace.path, script))
        assert pid is not None
        for _ in range(100):
            if await read_all(executor, session):
                break
            await asyncio.sleep(0.05)
        assert os.getpgid(pid) == pid, "the runner leads a process group of its own"
        assert (await executor.state(session)).alive
        started = time.monotonic()
        await executor.stop(session, grace_s=0.5)
        assert time.monotonic() - started < 5
        assert living_members(pid) == []
        status = await asyncio.wait_for(executor.wait(session), 10)
        assert status.returncode is None or status.returncode < 0
        assert not (await executor.state(session)).alive
    finally:
        await executor.close()


@pytest.mark.parametrize("in_the_way", ["plain folder", "other repository", "wrong branch", "symlink"])
async def test_a_worktree_that_is_not_the_issues_is_refused_and_left_alone(server: SshServer, tmp_path: Path, in_the_way: str) -> None:
    executor = SshExecutor([server.host()])
    session = new_session(executor, number=11)
    worktree = on_host(server, session.worktree)
    worktree.parent.mkdir(parents=True, exist_ok=True)
    if in_the_way == "plain folder":
        worktree.mkdir()
        (worktree / "notes.txt").write_text("mine")
    elif in_the_way == "other repository":
        subprocess.run(["git", "init", "-q", str(worktree)], check=True)
    elif in_the_way == "wrong branch":
        subprocess.run(["git", "worktree", "add", "-q", "-b", "feature/other", str(worktree)], cwd=server.home / "src/repo", check=True)
    else:
        (tmp_path / "elsewhere").mkdir()
        worktree.symlink_to(tmp_path / "elsewhere")
    before = sorted(path.name for path in worktree.iterdir())
    try:
        with pytest.raises(ExecutorError) as refused:
            await executor.prepare(session)
        assert refused.value.error_class == "workspace" and "issue-11" in str(refused.value)
        assert sorted(path.name for path in worktree.iterdir()) == before
    finally:
        await executor.close()


async def test_a_clone_without_a_remote_is_used_as_it_is(server: SshServer) -> None:
    subprocess.run(["git", "remote", "remove", "origin"], cwd=server.home / "src/repo", check=True)
    executor = SshExecutor([server.host()])
    session = new_session(executor, number=12)
    try:
        workspace = await executor.prepare(session)
        assert workspace.base == "main" and not workspace.reused
    finally:
        await executor.close()
