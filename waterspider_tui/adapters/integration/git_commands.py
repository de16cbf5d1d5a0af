"""git as an async subprocess in a given folder, never prompting, its output in English for parsing."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    def error(self) -> str:
        """The first line of what git said went wrong."""
        text = (self.stderr or self.stdout).strip()
        return text.splitlines()[0][:300] if text else f"exit {self.returncode}"


class GitFailed(RuntimeError):
    """A git command the integration needs failed; the message says which and why."""


async def git(cwd: Path | str, *args: str, timeout_s: float = GIT_TIMEOUT_S) -> GitResult:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no"}
    process = await asyncio.create_subprocess_exec(
        "git", *args, cwd=str(cwd), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=timeout_s)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return GitResult(124, "", f"git {args[0]} timed out after {timeout_s:.0f}s")
    return GitResult(process.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


async def must(cwd: Path | str, *args: str, timeout_s: float = GIT_TIMEOUT_S) -> GitResult:
    """git that must succeed: GitFailed otherwise."""
    result = await git(cwd, *args, timeout_s=timeout_s)
    if not result.ok:
        raise GitFailed(f"git {' '.join(args[:3])} failed: {result.error()}")
    return result
