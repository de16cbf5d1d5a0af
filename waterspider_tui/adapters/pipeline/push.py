"""Pushing the issue branch to its remote, from the session's host; pushing again is a no-op."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from pydantic import BaseModel, ConfigDict, Field

from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.core.models import ErrorClass, Outcome

if TYPE_CHECKING:
    from waterspider_tui.core.models import SessionResult

_WEB_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/|ssh://(?:[^@/]+@)?(?P<ssh_host>[^/:]+)(?::\d+)?/|"
    r"[^@/]+@(?P<scp_host>[^:/]+):)(?P<path>[^\s]+?)(?:\.git)?/?$"
)
"""https://host/owner/name(.git), ssh://git@host/owner/name.git, git@host:owner/name.git."""


def compare_url(remote_url: str, base: str, branch: str) -> str:
    """The web page comparing `branch` with `base` for a remote on a forge (GitHub and alike);
    empty for a remote on disk."""
    found = _WEB_REMOTE.match(remote_url.strip())
    if not found:
        return ""
    host = found.group("host") or found.group("ssh_host") or found.group("scp_host")
    return f"https://{host}/{found.group('path')}/compare/{base}...{branch}"


class PushOptions(BaseModel):
    """`[pipeline.push]` in waterspider.toml."""

    model_config = ConfigDict(extra="forbid")

    remote: str = "origin"
    """The remote of the session host's checkout; empty keeps the branch where it is."""
    force: bool = False
    """Push with --force-with-lease, for agents that rewrite their branch between rounds."""
    timeout_s: float = Field(180.0, gt=0)


class PushBranch:
    """Pushes `feature/issue-N` to the remote, then names the compare page when there is one."""

    name = "push"

    def __init__(self, options: PushOptions | None = None) -> None:
        self.options = options or PushOptions()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PushBranch:
        return cls(PushOptions.model_validate(dict(options)))

    def applies(self, result: SessionResult) -> bool:
        return result.outcome is Outcome.SUCCEEDED

    async def run(self, context: StepContext) -> StepOutcome:
        options, session, git = self.options, context.session, context.executor.git
        branch = session.branch
        if not options.remote:
            return StepOutcome(ok=True, summary=f"branch {branch} kept on {session.host} (no remote configured)", facts={"pushed": ""})
        sha = await git(session, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
        if sha.returncode != 0:
            return self._failed(f"branch {branch} does not exist on {session.host}")
        remote = await git(session, "remote", "get-url", options.remote)
        if remote.returncode != 0:
            return self._failed(f"no remote {options.remote!r} in the checkout on {session.host}")
        # A credential prompt would wait forever with nobody to answer: askPass `true` answers nothing.
        args = ["-c", "core.askPass=true", "push", "--porcelain"]
        if options.force:
            args.append("--force-with-lease")
        pushed = await git(session, *args, options.remote, f"refs/heads/{branch}:refs/heads/{branch}", timeout_s=options.timeout_s)
        if pushed.returncode != 0:
            reason = (pushed.stderr.strip() or pushed.stdout.strip()).splitlines()[-3:]
            return self._failed(f"git push {options.remote} {branch} failed: {' '.join(reason)[:400]}")
        head = sha.stdout.strip()
        url = compare_url(remote.stdout, context.base, branch)
        facts: dict[str, int | float | str] = {"pushed": head, "remote": options.remote}
        summary = f"pushed {branch} at {head[:9]} to {options.remote}"
        if url:
            facts["compare_url"] = url
            summary += f": {url}"
        return StepOutcome(ok=True, summary=summary, facts=facts)

    @staticmethod
    def _failed(reason: str) -> StepOutcome:
        return StepOutcome(ok=False, summary=reason, error_class=ErrorClass.PUSH_FAILED.value)
