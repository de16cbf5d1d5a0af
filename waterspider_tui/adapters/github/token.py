"""Finding a GitHub token: `GITHUB_TOKEN` / `GH_TOKEN`, else `gh auth token`."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Callable, Mapping

TOKEN_ENV_VARS = ("GITHUB_TOKEN", "GH_TOKEN")


class TokenNotFound(RuntimeError):
    """No token anywhere we look; the message says where we looked and what to do."""


def discover_token(
    env: Mapping[str, str] | None = None,
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> str:
    """The token to use; raises TokenNotFound with a message an operator can act on.

    The token is never logged or stored: callers keep it in memory only.
    """
    env = os.environ if env is None else env
    for name in TOKEN_ENV_VARS:
        value = env.get(name, "").strip()
        if value:
            return value
    gh = which("gh")
    problem = "the GitHub CLI `gh` is not installed"
    if gh:
        try:
            completed = run([gh, "auth", "token"], capture_output=True, text=True, timeout=15, check=False)
        except (OSError, subprocess.SubprocessError) as error:
            problem = f"`gh auth token` could not run ({error.__class__.__name__})"
        else:
            token = (completed.stdout or "").strip()
            if completed.returncode == 0 and token:
                return token
            problem = "`gh auth token` found no login (run `gh auth login`)"
    raise TokenNotFound(
        "No GitHub token: set GITHUB_TOKEN or GH_TOKEN, or log in with `gh auth login`; " + problem + "."
    )
