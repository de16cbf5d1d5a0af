"""Learning that pull requests were merged, for dependants that wait for merges.

A sink, so it runs beside the others and resumes after a restart: it reads the snapshot, not
its own memory. While an issue waits on a blocker whose pull request is open, that pull
request is asked about at the collector's pace; a merge is stored as PullRequestMerged, and
the scheduler then counts the blocker done.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Callable, Sequence

from waterspider_tui.adapters.github.errors import GitHubError
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.readiness import pull_request_url

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import Snapshot, TaskRecord

_PULL_URL = re.compile(r"/(?P<repo>[^/\s]+/[^/\s]+)/pull/(?P<number>\d+)(?:[/?#]|$)")
"""The repository and number in a pull request's web address (github.com or Enterprise Server)."""

WAITING_STATES = (TaskState.QUEUED,)


def watched_pulls(snapshot: Snapshot) -> dict[str, tuple[str, int]]:
    """Issue key -> (repository, number) of each succeeded issue's open pull request that a queued issue waits on."""
    waited_on = {dep for task in snapshot.tasks.values() if task.state in WAITING_STATES for dep in task.deps}
    found: dict[str, tuple[str, int]] = {}
    for key in waited_on:
        task = snapshot.tasks.get(key)
        if task is None or task.state is not TaskState.SUCCEEDED or task.pr_merged or task.issue.closed:
            continue
        where = _pull_of(task)
        if where is not None:
            found[key] = where
    return found


def _pull_of(task: TaskRecord) -> tuple[str, int] | None:
    facts = task.session.facts if task.session is not None else {}
    matched = _PULL_URL.search(pull_request_url(task))
    repo = str(facts.get("pr_repo", "")) or (matched.group("repo") if matched else "")
    number = facts.get("pr_number") or (matched.group("number") if matched else None)
    if not repo or number is None:
        return None
    return repo, int(number)


class PullRequestMerges:
    """Asks GitHub about the pull requests dependants wait on, every `interval_s`, and reports merges."""

    name = "pull_request_merges"
    due_is_a_poll = True
    """Its due time is when to ask GitHub again, not a write it owes: a run's exit does not wait for it."""

    def __init__(self, github: GitHubClient, *, interval_s: float, clock: Callable[[], float] = time.time) -> None:
        self.github = github
        self.interval_s = interval_s
        self.clock = clock
        self._next_at: float | None = None
        """When to ask again; None while nothing is watched."""
        self._missing: set[tuple[str, int]] = set()
        """Pull requests already reported as not found (said once, not at every turn)."""

    def wants(self, event: ev.Event) -> bool:
        # A pull request opened, a session ended, an issue queued or changed: the watch list may change.
        return isinstance(event, (ev.StepFinished, ev.SessionFinished, ev.IssueSeen, ev.IssueRequeued))

    def due_at(self) -> float | None:
        return self._next_at

    async def deliver(self, events: Sequence[ev.Event], snapshot: Snapshot) -> Sequence[str | ev.Event]:
        watched = watched_pulls(snapshot)
        now = self.clock()
        if not watched:
            self._next_at = None
            return []
        if self._next_at is not None and now < self._next_at:
            return []
        self._next_at = now + self.interval_s
        reported: list[str | ev.Event] = []
        merged = 0
        for key, (repo, number) in sorted(watched.items()):
            try:
                pull = await self.github.get_json(f"/repos/{repo}/pulls/{number}")
            except GitHubError as error:
                if error.status == 404 and (repo, number) not in self._missing:
                    self._missing.add((repo, number))
                    reported.append(f"pull request {repo}#{number} of {key} is not found: its dependants wait until it is merged or the issue is closed")
                continue  # asked again at the next turn; an outage is the client's to ride out
            if isinstance(pull, dict) and (pull.get("merged") or pull.get("merged_at")):
                merged += 1
                reported.append(ev.PullRequestMerged(ts=self.clock(), issue=key, number=number, url=str(pull.get("html_url", ""))))
        if merged == len(watched):
            self._next_at = None
        return reported

    async def close(self) -> None:
        """The client is the run's, closed with it."""
