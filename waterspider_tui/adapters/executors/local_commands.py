"""Commands in a worktree on this machine (the completion gate's checks): timed, tail kept, group killed."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Mapping, Sequence

from waterspider_tui.adapters.executors.base import CommandResult

PLAIN_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "TZ")
"""What a command run in a worktree inherits from the orchestrator: nothing secret. The code it
runs (tests the agent may have written) never sees the GitHub token or API keys."""

DRAIN_S = 1.0
"""How long output is still read after the command exited (a child may hold the pipe open)."""


def plain_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {name: os.environ[name] for name in PLAIN_ENV if name in os.environ}
    env.update(extra or {})
    return env


class _Tail:
    """The last `limit` bytes of a stream, and how many bytes were dropped before them."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self.data.extend(chunk)
        extra = len(self.data) - self.limit
        if extra > 0:
            del self.data[:extra]
            self.dropped += extra

    def text(self) -> str:
        text = self.data.decode("utf-8", "replace")
        return f"[{self.dropped} earlier bytes left out]\n{text}" if self.dropped else text


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


async def run_command(
    cwd: str, argv: Sequence[str], timeout_s: float, *, env: Mapping[str, str] | None = None, output_limit: int = 64_000,
) -> CommandResult:
    """Run `argv` in `cwd` in its own process group; see `Executor.run` for the contract."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=plain_env(env), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
    except OSError as error:
        return CommandResult(returncode=127, stdout="", stderr=f"{argv[0] if argv else '?'}: {error}")
    tail = _Tail(output_limit)
    assert process.stdout is not None

    async def pump() -> None:
        while chunk := await process.stdout.read(1 << 16):  # type: ignore[union-attr]
            tail.add(chunk)

    reader = asyncio.create_task(pump())
    timed_out = False
    try:
        await asyncio.wait_for(process.wait(), timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        # Whatever the command left behind (a test server, a watcher) ends with it.
        _kill_group(process.pid)
        if process.returncode is None:
            await process.wait()
    try:
        await asyncio.wait_for(reader, DRAIN_S)
    except TimeoutError:
        pass
    if timed_out:
        return CommandResult(returncode=124, stdout=tail.text(), stderr=f"timed out after {timeout_s:g}s", timed_out=True)
    return CommandResult(returncode=process.returncode if process.returncode is not None else -1, stdout=tail.text())
