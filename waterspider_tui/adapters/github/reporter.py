"""Progress back on the GitHub issue: one comment per session edited in place, state labels, a failure notice."""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from waterspider_tui.adapters.github.errors import GitHubError
from waterspider_tui.adapters.github.session_comments import CommentRenderer, SessionComments
from waterspider_tui.adapters.github.state_labels import LabelWriter, StateLabels
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, TaskState, split_issue_key

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import Snapshot, TaskRecord

log = logging.getLogger(__name__)


_SESSION_EVENTS = (ev.SessionStarted, ev.SessionProgressed, ev.SessionFinished)
_HANDLED = (ev.IssueSeen, ev.RetryScheduled, ev.IssueRequeued, *_SESSION_EVENTS)
MAX_FINAL_ATTEMPTS = 3
"""How often a session's final report is tried before it is given up (and logged)."""


class GitHubReporter:
    """A `Reporter`: `on_event` only queues; one worker does the writes, paced by the client.

    Writes are at least a second apart, so doing them inline would stall the engine; the
    queue also lets a burst of progress events collapse into one edit.
    """

    def __init__(
        self,
        client: GitHubClient,
        repos: Iterable[str],
        *,
        renderer: CommentRenderer,
        operators: Sequence[str] = (),
        label_names: StateLabels | Mapping[str, str] | None = None,
        comment_interval_s: float = 20.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.repos = {repo.lower() for repo in repos}
        names = label_names if isinstance(label_names, StateLabels) else StateLabels.from_mapping(label_names)
        self.labels = LabelWriter(client, names)
        self.comments = SessionComments(client, renderer, operators=operators, interval_s=comment_interval_s, clock=clock)
        self._queue: asyncio.PriorityQueue[tuple[int, int, ev.Event, Snapshot, int]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self._latest: dict[str, TaskRecord] = {}
        """Each issue's newest task record, so a late queued job acts on the present, not its past."""
        self._failed_finals: list[tuple[ev.Event, Snapshot, int]] = []
        self._worker: asyncio.Task[None] | None = None
        self.errors: collections.deque[str] = collections.deque(maxlen=50)
        """Recent write failures, one line each, for the log panel and tests."""

    def handles(self, issue_key: str | None) -> bool:
        return bool(issue_key) and "#" in str(issue_key) and split_issue_key(str(issue_key))[0].lower() in self.repos

    async def ensure_labels(self) -> None:
        """Create the state labels in every repository now (else on the first write to each)."""
        for repo in sorted(self.repos):
            try:
                await self.labels.ensure_repo_labels(repo)
            except GitHubError as error:
                self._failed(f"creating state labels in {repo}", error)

    async def on_event(self, event: ev.Event, snapshot: Snapshot) -> None:
        """Queue the event for the worker; never raises and never waits on GitHub."""
        if not isinstance(event, _HANDLED) or not self.handles(event.issue_key):
            return
        task = snapshot.tasks.get(str(event.issue_key))
        if task is not None:
            self._latest[task.key] = task
        self._retry_failed_finals()
        self._put(event, snapshot, 0)

    def _put(self, event: ev.Event, snapshot: Snapshot, attempt: int) -> None:
        # Session news goes first: at startup dozens of `agent:queued` labels must not delay
        # the comment of a session that just started.
        priority = 0 if isinstance(event, _SESSION_EVENTS) else 1
        self._queue.put_nowait((priority, next(self._order), event, snapshot, attempt))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="github-reporter")

    def _retry_failed_finals(self) -> None:
        """A final edit that failed (GitHub down, rate limited) is tried again with the next news."""
        failed, self._failed_finals = self._failed_finals, []
        for event, snapshot, attempt in failed:
            self._put(event, snapshot, attempt)

    def take_errors(self) -> list[str]:
        """The write failures since the last call, one line each, for the operator's warnings."""
        taken = list(self.errors)
        self.errors.clear()
        return taken

    async def drain(self) -> None:
        """Wait until every queued event is handled (tests, shutdown)."""
        await self._queue.join()

    async def close(self, timeout_s: float = 30.0) -> None:
        self._retry_failed_finals()
        try:
            await asyncio.wait_for(self.drain(), timeout_s)
        except asyncio.TimeoutError:
            log.warning("GitHub reporter closed with %d writes still queued", self._queue.qsize())
        if self._worker is not None:
            self._worker.cancel()

    async def _work(self) -> None:
        while True:
            _, _, event, snapshot, attempt = await self._queue.get()
            try:
                await self._handle(event, snapshot)
            except GitHubError as error:
                self._failed(f"reporting {event.type} of {event.issue_key}", error)
                if isinstance(event, ev.SessionFinished) and attempt < MAX_FINAL_ATTEMPTS:
                    self._failed_finals.append((event, snapshot, attempt + 1))
            except Exception as error:  # a reporter bug must never stop the engine
                log.exception("GitHub reporter failed on %s", event.type)
                self.errors.append(f"{event.type} {event.issue_key}: {error.__class__.__name__}: {error}")
            finally:
                self._queue.task_done()

    def _failed(self, what: str, error: GitHubError) -> None:
        log.warning("GitHub %s failed: %s", what, error)
        self.errors.append(f"{what}: {error}")

    async def _handle(self, event: ev.Event, snapshot: Snapshot) -> None:
        key = str(event.issue_key)
        task = snapshot.tasks.get(key)
        if task is None:
            return
        repo, number = split_issue_key(key)
        self.labels.saw(key, task.issue.labels)
        names = self.labels.names
        latest = self._latest.get(key, task)
        match event:
            case ev.IssueSeen() | ev.RetryScheduled() | ev.IssueRequeued():
                if latest.state is TaskState.QUEUED and not latest.held_reason:
                    await self.labels.move_to(repo, number, key, names.queued)
            case ev.SessionStarted(session=session):
                await self.comments.write_progress(repo, number, task, session.session_id, force=True)
                if latest.state is TaskState.RUNNING:
                    await self.labels.move_to(repo, number, key, names.running)
            case ev.SessionProgressed(session_id=session_id):
                fresher = latest.state is TaskState.RUNNING and latest.session is not None
                await self.comments.write_progress(repo, number, latest if fresher else task, session_id, force=False)
            case ev.SessionFinished(session_id=session_id, result=result):
                await self.comments.write_progress(repo, number, task, session_id, force=True)
                target = {Outcome.SUCCEEDED: names.done, Outcome.FAILED: names.failed}.get(result.outcome)
                await self.labels.move_to(repo, number, key, target)
                if result.outcome is Outcome.FAILED:
                    await self.comments.notify_failure(repo, number, task, session_id)
