"""GitHub as the issue source: open issues carrying the trigger label, with their dependencies and trust."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from waterspider_tui.adapters.github.dependencies import DependencyFetcher
from waterspider_tui.adapters.github.errors import GitHubError, RateLimited
from waterspider_tui.adapters.github.issue_mapping import is_pull_request, issue_from_json
from waterspider_tui.adapters.github.reference_states import ReferenceStates
from waterspider_tui.adapters.github.trust import TrustPolicy
from waterspider_tui.adapters.source_base import PollResult, Rejection
from waterspider_tui.core.dag import parse_references
from waterspider_tui.core.models import Issue, issue_key, split_issue_key

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient

log = logging.getLogger(__name__)

DEFAULT_TRIGGER_LABEL = "trigger:agent-execute"


def token_advice(status: int, repos: Iterable[str]) -> str:
    """What to do when GitHub refuses the token (401) or what it may read (403, not a rate limit)."""
    if status == 401:
        return "check the token (GITHUB_TOKEN, or `gh auth token`): GitHub does not accept it"
    if status == 403:
        return f"check the token (GITHUB_TOKEN, or `gh auth token`): it may not read the issues of {', '.join(repos)}"
    return ""


class GitHubIssueSource:
    """Polls each repository with one conditional, paginated list call, then only what changed."""

    def __init__(
        self,
        client: GitHubClient,
        repos: Iterable[str],
        *,
        trigger_label: str = DEFAULT_TRIGGER_LABEL,
        include_sub_issues: bool = True,
        trusted_logins: Iterable[str] = (),
        name: str = "github",
        clock: Callable[[], float] = time.time,
        trust_recheck_s: float = 600.0,
    ) -> None:
        self.name = name
        self.client = client
        self.repos = tuple(repos)
        self.trigger_label = trigger_label
        self._canonical_repos = {repo.lower(): repo for repo in self.repos}
        self.trust = TrustPolicy(client, trigger_label, trusted_logins, recheck_s=trust_recheck_s, clock=clock)
        self.dependencies = DependencyFetcher(client, include_sub_issues=include_sub_issues, canonical=self.canonical)
        self.references = ReferenceStates(client, clock=clock)

    def canonical(self, key: str) -> str:
        """The key spelled with the configured repository name, so `Octo/App#3` and `octo/app#3` meet."""
        repo, number = split_issue_key(key)
        return issue_key(self._canonical_repos.get(repo.lower(), repo), number)

    async def poll(self) -> PollResult:
        """The current labeled set; a failure returns ok=False and the engine keeps the last good set."""
        try:
            result = await self._poll()
        except RateLimited as error:
            result = PollResult(ok=False, message=str(error), wait_until=error.until)
        except GitHubError as error:
            result = PollResult(ok=False, message=str(error), advice=token_advice(error.status, self.repos))
        except Exception as error:  # a malformed answer must not stop the engine
            log.exception("GitHub poll failed")
            result = PollResult(ok=False, message=f"GitHub poll failed: {error.__class__.__name__}: {error}")
        result.rate_remaining = self.client.rate_limit.remaining
        result.rate_limit = self.client.rate_limit.limit
        result.wait_until = result.wait_until or self.client.waiting_until()
        return result

    async def confirm(self, issue: Issue) -> str:
        """Asked right before a session starts: '' to go, else why the issue must wait.

        The issue is read again (a conditional request: free when unchanged) and its trust
        decided again, so a relabel by someone without write access, or an edit, between the
        last poll and the start does not slip through.
        """
        # A GitHub error is raised: the engine then neither starts nor holds the issue, it asks again.
        item = await self.client.get_json(f"/repos/{issue.repo}/issues/{issue.number}")
        if not isinstance(item, dict):
            raise GitHubError(200, "unexpected answer", f"/repos/{issue.repo}/issues/{issue.number}")
        if item.get("state") != "open":
            return "closed since the last poll"
        labels = {str(label.get("name", "")).lower() for label in item.get("labels") or () if isinstance(label, dict)}
        if self.trigger_label.lower() not in labels:
            return f"no longer labeled {self.trigger_label}"
        return await self.trust.hold_reason(issue.repo, item)

    async def close(self) -> None:
        """Nothing to release: the client is shared with the reporter and closed by whoever made it."""

    async def _poll(self) -> PollResult:
        self.references.new_poll()
        listed: list[tuple[str, Mapping[str, Any]]] = []
        for repo in self.repos:
            # Oldest first by creation: a change to one issue then alters only its own page, so
            # the other pages stay 304 (free); sorted by update time, every change would move
            # the issue to the top and shift every page above where it was.
            # No network retries inside the poll: the poll loop is the retry, so the failure is told
            # now and its "retry in Ns" is when the next attempt really comes.
            items, _ = await self.client.paginate(
                f"/repos/{repo}/issues",
                {"labels": self.trigger_label, "state": "open", "sort": "created", "direction": "asc", "per_page": 100},
                network_retries=0,
            )
            listed += [(repo, item) for item in items if isinstance(item, dict) and not is_pull_request(item)]
        result = PollResult()
        valid = [(repo, item) for repo, item in listed if isinstance(item.get("number"), int)]
        for repo, item in listed:
            if not isinstance(item.get("number"), int):
                result.rejected.append(Rejection(str(item.get("url") or repo), "issue without a number"))
        offered = {issue_key(repo, item["number"]) for repo, item in valid}
        for repo, item in valid:
            issue = await self._issue(repo, item, offered)
            result.issues.append(issue)
            reason = await self.trust.hold_reason(repo, item)
            if reason:
                result.held[issue.key] = reason
        self.dependencies.forget_all_but(offered)
        return result

    async def _issue(self, repo: str, item: Mapping[str, Any], offered: set[str]) -> Issue:
        own_key = issue_key(repo, item["number"])
        related = await self.dependencies.related(repo, item)
        for entry in related:
            self.references.remember(entry.key, entry.is_open)
        depends_on = tuple(entry.key for entry in related)
        body_refs = tuple(self.canonical(key) for key in parse_references(str(item.get("body") or ""), repo))
        external_open: list[str] = []
        external_closed: list[str] = []
        for key in dict.fromkeys(depends_on + body_refs):
            if key in offered or key == own_key:
                continue
            is_open = await self.references.is_open(key)
            if is_open is not None:
                (external_open if is_open else external_closed).append(key)
        return issue_from_json(
            item, repo, depends_on=depends_on,
            external_open=tuple(external_open), external_closed=tuple(external_closed),
        )
