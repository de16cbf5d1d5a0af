"""Issue branches still only in an SSH host's clone (never pushed), brought into this repository as a
git bundle over the host's SSH connection, under `refs/waterspider/hosts/HOST/BRANCH`."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh_connection import HostConnection, remote_path
from waterspider_tui.adapters.integration.git_commands import git

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig

BUNDLE_TIMEOUT_S = 300.0
"""Bundling a branch in a large clone and sending it over a slow link."""

_BUNDLE = """
cd {repo} 2>/dev/null || {{ echo "no clone at {shown}" >&2; exit 3; }}
git rev-parse -q --verify {ref} >/dev/null || {{ echo "no branch {branch} there" >&2; exit 4; }}
not=""
[ -n {known} ] && git cat-file -e {known}^{{commit}} 2>/dev/null && not=^{known}
exec git bundle create - {ref} $not 2>/dev/null
"""
"""Prints the bundle; leaves out what this repository has already (its base, when the host has it too)."""


class HostBranches:
    """Brings a branch from the clone of the host a session ran on; says why when it cannot."""

    def __init__(self, hosts: Sequence[HostConfig]) -> None:
        self.hosts = {host.name: host for host in hosts}
        self.why_not: dict[tuple[str, str], str] = {}
        """(host, branch) -> why it could not be brought, for the report."""

    async def fetch(self, repo: Path, host: str, branch: str, known: str = "") -> str | None:
        """The ref in `repo` now holding `host`'s `branch`, or None (why in `why_not`). `known`: a commit
        this repository has (its base), so only the branch's own commits travel."""
        config = self.hosts.get(host)
        if config is None:
            self.why_not[(host, branch)] = f"{host} is not a [[hosts]] entry"
            return None
        ref = f"refs/heads/{branch}"
        script = _BUNDLE.format(repo=remote_path(config.repo_path), shown=shlex.quote(config.repo_path), ref=shlex.quote(ref),
                                branch=shlex.quote(branch), known=shlex.quote(known))
        connection = HostConnection(config)
        try:
            result = await connection.run(script, timeout_s=BUNDLE_TIMEOUT_S)
        except ExecutorError as error:
            self.why_not[(host, branch)] = str(error)
            return None
        finally:
            await connection.close()
        if result.returncode != 0 or not result.stdout:
            self.why_not[(host, branch)] = result.error_text or f"git bundle ended with exit {result.returncode}"
            return None
        target = f"refs/waterspider/hosts/{host}/{branch}"
        # The bundle can be large: written and removed in a thread, off the event loop.
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="waterspider-bundle-"))
        try:
            bundle = folder / "branch.bundle"
            await asyncio.to_thread(bundle.write_bytes, result.stdout)
            fetched = await git(repo, "fetch", "--no-tags", str(bundle), f"+{ref}:{target}")
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        if not fetched.ok:
            self.why_not[(host, branch)] = f"the branch from {host} could not be fetched here: {fetched.error()}"
            return None
        return target
