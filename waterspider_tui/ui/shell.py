"""A shell in a worktree for the operator, while the control center steps aside."""

from __future__ import annotations

import os
import subprocess
from typing import Mapping


def run_shell(folder: str, env: Mapping[str, str] | None = None) -> int:
    """Run the operator's `$SHELL` (else /bin/sh) in `folder` until they leave it; its exit code."""
    env = os.environ if env is None else env
    shell = env.get("SHELL") or "/bin/sh"
    return subprocess.call([shell], cwd=folder, env={**env, "WATERSPIDER_WORKTREE": folder})
