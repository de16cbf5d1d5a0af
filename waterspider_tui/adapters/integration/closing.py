"""Closing a GitHub milestone once its integration pull request is merged: asked at the collector's pace, done once.

The pull request is asked about with conditional GETs (an unchanged answer is a free 304).
"Once" holds across restarts because the closing is stored (`MilestoneClosed`) and the
snapshot says which milestones were closed; a crash between GitHub's answer and the store
is harmless too, since a milestone GitHub already shows closed is recorded, not patched again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.core import events as ev

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import Snapshot

log = logging.getLogger(__name__)


def awaiting_merge(snapshot: Snapshot) -> list[ev.MilestoneIntegrated]:
    """Integrations with a milestone pull request on GitHub whose milestone is not closed yet."""
    return [
        event for key, event in sorted(snapshot.integrations.items())
        if isinstance(event, ev.MilestoneIntegrated) and event.pull_request and "/" in event.repo and key not in snapshot.milestones_closed
    ]


class MilestoneCloser:
    """Asks about each integration pull request; closes its milestone when it was merged."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client
        self._told: set[tuple[str, str]] = set()
        """Milestones already said to be missing on GitHub (said once per process, asked again later)."""

    async def check(self, snapshot: Snapshot, now: float) -> tuple[list[ev.Event], float | None]:
        """The closings to store and lines to say, and when GitHub asked us to wait (a rate limit), if it did."""
        found: list[ev.Event] = []
        wait_until: float | None = None
        for integrated in awaiting_merge(snapshot):
            try:
                closed = await self._close_if_merged(integrated, now)
            except (RateLimited, GitHubUnavailable) as error:
                log.info("asking about %s's pull request waits: %s", integrated.milestone, error)
                wait_until = error.until if isinstance(error, RateLimited) else self.client.waiting_until()
                break
            except GitHubError as error:
                log.warning("closing milestone %s failed: %s", integrated.milestone, error)
                continue
            if closed is not None:
                found.append(closed)
        return found, wait_until

    async def _close_if_merged(self, integrated: ev.MilestoneIntegrated, now: float) -> ev.Event | None:
        repo, name = integrated.repo, integrated.milestone
        pull = await self.client.get_json(f"/repos/{repo}/pulls/{integrated.pull_request}")
        if not isinstance(pull, dict) or not pull.get("merged_at"):
            return None
        items, _ = await self.client.paginate(f"/repos/{repo}/milestones", {"state": "all", "per_page": 100})
        milestone = next((item for item in items if isinstance(item, dict) and item.get("title") == name), None)
        if milestone is None:
            if (repo, name) not in self._told:
                self._told.add((repo, name))
                return ev.Warned(ts=now, message=f"milestones: pull request #{integrated.pull_request} of milestone {name} was merged, "
                                                 f"but {repo} has no GitHub milestone titled {name!r} to close")
            return None
        if milestone.get("state") != "closed":
            await self.client.patch(f"/repos/{repo}/milestones/{milestone['number']}", {"state": "closed"})
        return ev.MilestoneClosed(ts=now, repo=repo, milestone=name, number=int(milestone["number"]), pull_request=int(integrated.pull_request or 0))
