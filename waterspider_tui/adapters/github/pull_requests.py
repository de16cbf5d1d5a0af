"""Pull requests over REST: find the open one for a branch, open one, update it, label it, ask reviewers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    """The web page (`html_url`)."""
    state: str
    draft: bool
    head: str
    base: str
    requested_reviewers: tuple[str, ...] = ()
    requested_teams: tuple[str, ...] = ()
    """Team slugs."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]), url=str(data.get("html_url", "")), state=str(data.get("state", "")),
            draft=bool(data.get("draft", False)), head=str((data.get("head") or {}).get("ref", "")),
            base=str((data.get("base") or {}).get("ref", "")),
            requested_reviewers=tuple(str(user.get("login", "")) for user in data.get("requested_reviewers") or ()),
            requested_teams=tuple(str(team.get("slug", "")) for team in data.get("requested_teams") or ()),
        )


def _already_exists(error: GitHubError) -> bool:
    """GitHub's 422 for a second open pull request of the same head and base."""
    errors = error.body.get("errors") if isinstance(error.body, dict) else None
    return error.status == 422 and any("already exists" in str(item.get("message", "")) for item in errors or () if isinstance(item, dict))


class PullRequests:
    """The calls the pull-request step makes, on one client (so one rate limit is obeyed)."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client

    async def find_open(self, repo: str, branch: str) -> PullRequest | None:
        """The open pull request whose head is `branch` of `repo` itself, if any."""
        owner = repo.partition("/")[0]
        items, _ = await self.client.paginate(f"/repos/{repo}/pulls", {"state": "open", "head": f"{owner}:{branch}", "per_page": 100})
        found = [PullRequest.from_json(item) for item in items if isinstance(item, dict)]
        return min(found, key=lambda pull: pull.number) if found else None

    async def open_or_update(self, repo: str, branch: str, base: str, title: str, body: str, *, draft: bool) -> tuple[PullRequest, bool]:
        """The branch's pull request with this title and body, and whether it was opened now.

        Looked up first, so a pull request opened by an earlier run (one that stopped before it
        could record it) is updated, never duplicated; a race with another opener ends the same way.
        """
        existing = await self.find_open(repo, branch)
        if existing is None:
            payload = {"title": title, "head": branch, "base": base, "body": body, "draft": draft}
            try:
                created = await self.client.post(f"/repos/{repo}/pulls", payload)
                return PullRequest.from_json(created.data), True
            except GitHubError as error:
                if not _already_exists(error):
                    raise
            existing = await self.find_open(repo, branch)
            if existing is None:
                raise GitHubError(422, "a pull request exists for the branch but cannot be found", f"/repos/{repo}/pulls", "GET")
        updated = await self.client.patch(f"/repos/{repo}/pulls/{existing.number}", {"title": title, "body": body})
        return PullRequest.from_json(updated.data), False

    async def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        if labels:
            await self.client.post(f"/repos/{repo}/issues/{number}/labels", {"labels": labels})

    async def request_reviewers(self, repo: str, pull: PullRequest, reviewers: list[str], teams: list[str]) -> None:
        """Ask the reviewers not already asked; GitHub refuses the author and non-collaborators (422)."""
        asked = {login.lower() for login in pull.requested_reviewers}
        missing = [login for login in reviewers if login.lower() not in asked]
        missing_teams = [slug for slug in teams if slug.lower() not in {team.lower() for team in pull.requested_teams}]
        if missing or missing_teams:
            payload = {"reviewers": missing, "team_reviewers": missing_teams}
            await self.client.post(f"/repos/{repo}/pulls/{pull.number}/requested_reviewers", payload)
