"""Open or closed: the state of referenced issues that are not offered for work."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.core.models import split_issue_key

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient


class ReferenceStates:
    """Answers "is this issue open?" cheaply.

    Open ones are asked again on each poll, conditionally, so an unchanged issue costs a
    free 304; closed and unreachable ones are trusted for `closed_refresh_s`, since
    reopening is rare.
    States reported by dependency listings are remembered and save a call.
    """

    def __init__(
        self, client: GitHubClient, *, closed_refresh_s: float = 600.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._closed_refresh_s = closed_refresh_s
        self._clock = clock
        self._known: dict[str, tuple[bool | None, float]] = {}
        self._asked_this_poll: set[str] = set()

    def new_poll(self) -> None:
        self._asked_this_poll.clear()

    def remember(self, key: str, is_open: bool) -> None:
        self._known[key] = (is_open, self._clock())
        self._asked_this_poll.add(key)

    async def is_open(self, key: str) -> bool | None:
        """True open, False closed, None when GitHub will not tell us (deleted, no access)."""
        known = self._known.get(key)
        if known is not None:
            is_open, seen_at = known
            settled = is_open is not True and self._clock() - seen_at < self._closed_refresh_s
            if key in self._asked_this_poll or settled:
                return is_open
        repo, number = split_issue_key(key)
        try:
            data = await self._client.get_json(f"/repos/{repo}/issues/{number}")
        except (RateLimited, GitHubUnavailable):
            raise
        except GitHubError:
            # Deleted, transferred or out of reach: asked again only after `closed_refresh_s`.
            self._known[key] = (None, self._clock())
            return None
        self.remember(key, data.get("state") != "closed")
        return self._known[key][0]
