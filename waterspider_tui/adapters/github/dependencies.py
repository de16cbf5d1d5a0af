"""An issue's explicit edges from GitHub: "blocked by" dependencies and sub-issues, fetched only on change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.github.issue_mapping import key_of

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient


@dataclass(frozen=True)
class RelatedIssue:
    """An issue this one waits on, with the state the listing reported."""

    key: str
    is_open: bool


class DependencyFetcher:
    """Lists `blocked_by` and `sub_issues` for an issue when its counters say there are any.

    Every issue JSON carries `issue_dependencies_summary` and `sub_issues_summary`; a call
    is made only when a total is above zero, and again only when those counters or
    `updated_at` change. We ask on `total_blocked_by`, not on the open-only `blocked_by`
    counter, because that counter's meaning is observed rather than documented. Without
    the counters (GitHub Enterprise Server without these features) we ask once per
    repository and stop after a 404.
    """

    def __init__(
        self, client: GitHubClient, *, include_sub_issues: bool = True, canonical: Callable[[str], str] = str
    ) -> None:
        self._client = client
        self.include_sub_issues = include_sub_issues
        """A parent waits for its sub-issues when True."""
        self._canonical = canonical
        self._cache: dict[str, tuple[str, tuple[RelatedIssue, ...]]] = {}
        self._missing_endpoints: set[tuple[str, str]] = set()

    async def related(self, repo: str, item: Mapping[str, Any]) -> tuple[RelatedIssue, ...]:
        """Blockers, then sub-issues (when included), from cache while nothing changed."""
        key = key_of(item, repo)
        deps_summary = item.get("issue_dependencies_summary")
        subs_summary = item.get("sub_issues_summary")
        signature = json.dumps([item.get("updated_at"), deps_summary, subs_summary], sort_keys=True)
        cached = self._cache.get(key)
        if cached and cached[0] == signature:
            return cached[1]
        found: list[RelatedIssue] = []
        if self._wanted(repo, "dependencies/blocked_by", deps_summary, "total_blocked_by"):
            found += await self._list(repo, item, "dependencies/blocked_by", deps_summary is None)
        if self.include_sub_issues and self._wanted(repo, "sub_issues", subs_summary, "total"):
            found += await self._list(repo, item, "sub_issues", subs_summary is None)
        related = tuple({entry.key: entry for entry in found if entry.key != key}.values())
        self._cache[key] = (signature, related)
        return related

    def forget_all_but(self, keys: set[str]) -> None:
        """Drop what we remember of issues no longer offered."""
        for key in [key for key in self._cache if key not in keys]:
            del self._cache[key]

    def _wanted(self, repo: str, kind: str, summary: Any, total_field: str) -> bool:
        if isinstance(summary, dict):
            return int(summary.get(total_field) or 0) > 0
        return (repo, kind) not in self._missing_endpoints

    async def _list(self, repo: str, item: Mapping[str, Any], kind: str, probing: bool) -> list[RelatedIssue]:
        try:
            items, _ = await self._client.paginate(f"/repos/{repo}/issues/{item['number']}/{kind}", {"per_page": 100})
        except (RateLimited, GitHubUnavailable):
            raise
        except GitHubError as error:
            if error.status == 404 and probing:
                self._missing_endpoints.add((repo, kind))
            return []
        return [
            RelatedIssue(self._canonical(key_of(entry, repo)), entry.get("state") != "closed")
            for entry in items if isinstance(entry, dict) and "number" in entry
        ]
