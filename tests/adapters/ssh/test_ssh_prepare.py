"""Worktrees of sessions placed on a host together are made by one command per turn (one fetch),
each with its own answer: one refused does not stop the others."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.adapters.executors.ssh_prepare import BATCH_MAX, PrepareBatches, split_items

from remote_sessions import new_session
from sshd_server import SshServer


def test_each_item_gets_its_own_lines_and_the_clones_warnings() -> None:
    text = "WARN git fetch origin failed: offline\nITEM 0\nPATH /a\nOK created origin/main\nITEM 1\nPATH /b\nREFUSE /b is in the way\n"
    assert split_items(text, 2) == [
        ["WARN git fetch origin failed: offline", "PATH /a", "OK created origin/main"],
        ["WARN git fetch origin failed: offline", "PATH /b", "REFUSE /b is in the way"],
    ]
    assert split_items("REFUSE no clone at ~/src/app\n", 2) == [["REFUSE no clone at ~/src/app"]] * 2


async def test_callers_waiting_for_the_hosts_turn_share_one_batch_of_at_most_batch_max() -> None:
    batches: list[list[tuple[str, str]]] = []

    async def run_batch(items: list[tuple[str, str]]) -> list[list[str]]:
        batches.append(items)
        await asyncio.sleep(0.01)
        return [[f"OK created {worktree}"] for worktree, _ in items]

    prepares = PrepareBatches(run_batch)
    answers = await asyncio.gather(*(prepares.prepare(f"wt-{index}", f"b-{index}") for index in range(BATCH_MAX + 5)))
    assert answers == [[f"OK created wt-{index}"] for index in range(BATCH_MAX + 5)]
    assert [len(batch) for batch in batches] == [1, BATCH_MAX, 4], "the first goes alone; those queued meanwhile go together"
    assert [worktree for batch in batches for worktree, _ in batch] == [f"wt-{index}" for index in range(BATCH_MAX + 5)]


async def test_a_batch_that_fails_fails_each_of_its_callers_and_the_next_turn_goes_on() -> None:
    calls = 0

    async def run_batch(items: list[tuple[str, str]]) -> list[list[str]]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 2:
            raise ExecutorError("mini-1: connection lost", error_class="host_down")
        return [["OK created x"] for _ in items]

    prepares = PrepareBatches(run_batch)
    results = await asyncio.gather(*(prepares.prepare(f"wt-{index}", "b") for index in range(4)), return_exceptions=True)
    assert results[0] == ["OK created x"]
    assert all(isinstance(result, ExecutorError) for result in results[1:])
    assert await prepares.prepare("wt-9", "b") == ["OK created x"]


async def test_twenty_sessions_placed_together_get_their_worktrees_and_one_refusal_stays_its_own(server: SshServer) -> None:
    executor = SshExecutor([server.host(slots=20)])
    sessions = [new_session(executor, number=number, token=f"tok{number:05d}") for number in range(100, 120)]
    blocker = server.home / "src/repo/.worktrees/issue-105"
    blocker.mkdir(parents=True)
    (blocker / "notes.txt").write_text("mine\n")
    try:
        results = await asyncio.gather(*(executor.prepare(session) for session in sessions), return_exceptions=True)
    finally:
        await executor.close()
    refused = results[5]
    assert isinstance(refused, ExecutorError) and "is in the way and is not a git worktree" in str(refused)
    assert (blocker / "notes.txt").read_text() == "mine\n", "left as it was"
    for session, result in zip(sessions, results):
        if session is sessions[5]:
            continue
        assert not isinstance(result, BaseException), result
        assert result.branch == session.branch and not result.reused
        head = subprocess.run(["git", "symbolic-ref", "HEAD"], cwd=result.path, capture_output=True, text=True).stdout.strip()
        assert head == f"refs/heads/{session.branch}"


@pytest.mark.parametrize("count", [1, 3])
async def test_a_missing_clone_refuses_every_session_of_the_batch(server: SshServer, count: int) -> None:
    executor = SshExecutor([server.host(repo_path=str(server.home / "src" / "nothing-here"))])
    try:
        results = await asyncio.gather(*(executor.prepare(new_session(executor, number=number)) for number in range(count)), return_exceptions=True)
    finally:
        await executor.close()
    assert all(isinstance(result, ExecutorError) and "no clone at" in str(result) for result in results)
