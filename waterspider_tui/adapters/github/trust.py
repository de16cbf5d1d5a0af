"""Whether a labeled issue may be worked on: who applied the trigger label, and who edited it since.

The rule, with what the REST API offers:
1. The latest `labeled` event for the trigger label (issue events API) must have an actor
   with write access (admin, maintain or write, from the collaborator-permission endpoint),
   or one on the allowlist. Otherwise the issue is held.
2. A title change after that event leaves a `renamed` event with its actor: held unless
   that actor is trusted too.
3. REST does not say who edited a body. But only the issue's author and people with triage
   access or more can edit it. So when the author is trusted, any body edit is; when the
   author is not, the body we first saw after the trusted labeling is fingerprinted, and a
   later change holds the issue until a trusted person applies the label again (a new
   `labeled` event starts a new fingerprint). Gap: an edit between labeling and our first
   poll cannot be told apart (GraphQL `userContentEdits` could; polls keep the gap short).
Decisions are cached per issue until its JSON (updated_at, title, body, labels) changes;
holds are re-checked after `recheck_s` so a newly granted permission is noticed.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import quote

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.github.issue_mapping import key_of

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


@dataclass(frozen=True)
class _Decision:
    fingerprint: str
    reason: str
    decided_at: float


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def _actor(event: Mapping[str, Any]) -> str:
    actor = event.get("actor")
    return str(actor.get("login")) if isinstance(actor, dict) and actor.get("login") else "ghost"


class TrustPolicy:
    """Decides hold reasons ('' means trusted) and remembers them."""

    def __init__(
        self,
        client: GitHubClient,
        trigger_label: str,
        trusted_logins: Iterable[str] = (),
        *,
        recheck_s: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._trigger = trigger_label.lower()
        self._allowlist = {login.lower() for login in trusted_logins}
        self._recheck_s = recheck_s
        self._clock = clock
        self._decisions: dict[str, _Decision] = {}
        self._bodies: dict[str, tuple[Any, str]] = {}
        """Issue key -> (id of the trusted `labeled` event, fingerprint of the body seen after it)."""
        self._permissions: dict[tuple[str, str], tuple[bool, float]] = {}

    async def hold_reason(self, repo: str, item: Mapping[str, Any]) -> str:
        """Why the issue must wait for a person, or '' when it may run."""
        key = key_of(item, repo)
        labels = sorted(str(label.get("name")) for label in item.get("labels") or () if isinstance(label, dict))
        fingerprint = _digest(item.get("updated_at"), item.get("title"), item.get("body"), labels)
        cached = self._decisions.get(key)
        now = self._clock()
        if cached and cached.fingerprint == fingerprint and (not cached.reason or now - cached.decided_at < self._recheck_s):
            return cached.reason
        try:
            reason = await self._decide(repo, item, key)
        except (RateLimited, GitHubUnavailable):
            raise
        except GitHubError as error:
            # Not cached: a refused permission check is asked again on the next poll.
            return f"could not check who labeled it ({error.status} {error.message})".strip()
        self._decisions[key] = _Decision(fingerprint, reason, now)
        return reason

    async def can_write(self, repo: str, login: str) -> bool:
        """Allowlisted, or admin/maintain/write on the repository; cached for `recheck_s`."""
        if login.lower() in self._allowlist:
            return True
        cached = self._permissions.get((repo, login))
        if cached and self._clock() - cached[1] < self._recheck_s:
            return cached[0]
        try:
            data = await self._client.get_json(f"/repos/{repo}/collaborators/{quote(login)}/permission")
        except (RateLimited, GitHubUnavailable):
            raise
        except GitHubError as error:
            if error.status != 404:
                raise
            data = {}
        roles = {str(data.get("role_name") or ""), str(data.get("permission") or "")}
        allowed = bool(roles & WRITE_ROLES)
        self._permissions[(repo, login)] = (allowed, self._clock())
        return allowed

    async def _decide(self, repo: str, item: Mapping[str, Any], key: str) -> str:
        events, _ = await self._client.paginate(f"/repos/{repo}/issues/{item['number']}/events", {"per_page": 100})
        labeled_at = [
            index for index, event in enumerate(events)
            if event.get("event") == "labeled" and str((event.get("label") or {}).get("name", "")).lower() == self._trigger
        ]
        if not labeled_at:
            return "no record of who applied the trigger label"
        labeled = events[labeled_at[-1]]
        labeler = _actor(labeled)
        if not await self.can_write(repo, labeler):
            return f"trigger label applied by @{labeler}, who has no write access"
        for event in events[labeled_at[-1] + 1:]:
            if event.get("event") == "renamed" and not await self.can_write(repo, _actor(event)):
                return f"title changed by @{_actor(event)} after the trigger label was applied"
        return await self._body_reason(repo, item, key, labeled.get("id"))

    async def _body_reason(self, repo: str, item: Mapping[str, Any], key: str, labeled_id: Any) -> str:
        author = str((item.get("user") or {}).get("login") or "ghost")
        if await self.can_write(repo, author):
            self._bodies.pop(key, None)
            return ""
        body_print = _digest(item.get("body") or "")
        seen = self._bodies.get(key)
        if seen is None or seen[0] != labeled_id:
            self._bodies[key] = (labeled_id, body_print)
            return ""
        if seen[1] != body_print:
            return (f"body edited after the trigger label was applied, and its author @{author} has no write "
                    "access; apply the label again to accept the edit")
        return ""
