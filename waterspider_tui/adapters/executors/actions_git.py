"""The git questions the steps after the agent ask, answered from the branch the runner pushed
(GitHub's compare and branches APIs): the worktree itself lives on the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import quote

from waterspider_tui.adapters.executors.base import CommandResult
from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.actions import ActionsExecutor
    from waterspider_tui.core.models import SessionInfo


def _words(args: Sequence[str]) -> list[str]:
    """A git command line without its leading `-c NAME=VALUE` pairs and its options."""
    rest = list(args)
    while len(rest) >= 2 and rest[0] == "-c":
        rest = rest[2:]
    return [arg for arg in rest if not arg.startswith("-")]


def _range(spec: str, separator: str) -> tuple[str, str]:
    base, _, branch = spec.partition(separator)
    return base, branch


def web_url(api_url: str) -> str:
    """The web host of an API root: api.github.com -> github.com, https://HOST/api/v3 -> https://HOST."""
    root = api_url.rstrip("/")
    if root.endswith("/api/v3"):
        return root[: -len("/api/v3")]
    return root.replace("://api.github.com", "://github.com")


class GitFromGitHub:
    """The executor's `git` and `run` (mixed into ActionsExecutor)."""

    async def git(self: ActionsExecutor, session: SessionInfo, *args: str, timeout_s: float = 60.0) -> CommandResult:
        """The worktree lives on the runner, which commits and pushes the issue branch itself, so the
        questions the steps after the agent ask are answered from the pushed branch on GitHub:

        - `rev-list --count BASE..BRANCH`: the compare API's `ahead_by` (0 when nothing was pushed);
        - `diff --name-only` / `diff --numstat BASE...BRANCH`: the compare API's files;
        - `rev-parse --verify ... refs/heads/BRANCH`: the branch's head (returncode 1 when absent);
        - `remote get-url NAME`: the repository's clone URL.

        Anything else (the push itself included: the run pushed already) answers returncode 0 with
        empty output; nothing runs here.
        """
        words = _words(args)
        try:
            if words[:1] == ["rev-list"] and "--count" in args:
                base, branch = _range(args[-1], "..")
                compare = await self._compare(base, branch)
                return CommandResult(0, f"{int(compare.get('ahead_by', 0)) if compare else 0}\n")
            if words[:1] == ["diff"] and ("--name-only" in args or "--numstat" in args):
                base, branch = _range(args[-1], "...")
                compare = await self._compare(base, branch)
                files = compare.get("files", []) if compare else []
                if "--name-only" in args:
                    return CommandResult(0, "".join(f"{f.get('filename', '')}\n" for f in files))
                return CommandResult(0, "".join(f"{f.get('additions', 0)}\t{f.get('deletions', 0)}\t{f.get('filename', '')}\n" for f in files))
            if words[:1] == ["rev-parse"]:
                ref = args[-1].removeprefix("refs/heads/")
                try:
                    answer = await self.client.get(f"/repos/{self.repo}/branches/{quote(ref, safe='/')}")
                except GitHubError as error:
                    if error.status == 404:
                        return CommandResult(1, "", f"no branch {ref} on {self.repo}")
                    raise
                sha = answer.data.get("commit", {}).get("sha", "") if isinstance(answer.data, dict) else ""
                return CommandResult(0, f"{sha}\n")
            if words[:2] == ["remote", "get-url"]:
                return CommandResult(0, f"{web_url(self.client.api_url)}/{self.repo}.git\n")
        except GitHubError as error:
            return CommandResult(1, "", f"git {' '.join(args)} answered from GitHub failed: {error}")
        return CommandResult(returncode=0, stdout="")

    async def _compare(self: ActionsExecutor, base: str, branch: str) -> dict[str, Any] | None:
        """GitHub's comparison of `base` and `branch`; None when the branch was never pushed."""
        base = base.removeprefix("origin/").removeprefix("refs/heads/")
        branch = branch.removeprefix("origin/").removeprefix("refs/heads/")
        try:
            answer = await self.client.get(f"/repos/{self.repo}/compare/{quote(base, safe='/')}...{quote(branch, safe='/')}")
        except GitHubError as error:
            if error.status == 404:
                return None
            raise
        return answer.data if isinstance(answer.data, dict) else None

    async def run(
        self, session: SessionInfo, argv: Sequence[str], timeout_s: float, *,
        env: Mapping[str, str] | None = None, output_limit: int = 64_000,
    ) -> CommandResult:
        """Not supported: commands in the worktree belong in the workflow's steps."""
        program = argv[0] if argv else "?"
        return CommandResult(
            returncode=127, stdout="",
            stderr=f"{program}: the actions executor cannot run commands in a runner's worktree; add it as a step of {self.workflow}",
        )
