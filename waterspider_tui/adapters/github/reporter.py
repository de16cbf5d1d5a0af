"""GitHub as a sink: one comment per session edited in place, state labels, a failure notice; a view of the store."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable, Mapping, Sequence, TypeVar

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.github.session_comments import CommentRenderer, SessionComments
from waterspider_tui.adapters.github.session_views import session_view
from waterspider_tui.adapters.github.state_labels import LabelWriter, StateLabels
from waterspider_tui.adapters.sinks.base import SinkUnavailable
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome, SessionInfo, SessionResult, split_issue_key

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import Snapshot, TaskRecord

_SESSION_EVENTS = (ev.SessionStarted, ev.SessionProgressed, ev.SessionFinished)
_WANTED = (ev.IssueSeen, ev.RetryScheduled, ev.IssueRequeued, *_SESSION_EVENTS)
_V = TypeVar("_V")
SESSIONS_REMEMBERED = 2000
"""Sessions whose details are kept for writing their final comment after the task moved on."""


class GitHubSink:
    """A `Sink`: for each batch, writes every touched session's comment and issue's label once, as they are now.

    A burst of news about one session collapses into one edit, because the body is rendered
    from the snapshot rather than from each event. Progress edits are paced by
    `comment_interval_s`; one put off is written when due (`due_at`), a final one at once.
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
        name: str = "github",
    ) -> None:
        self.name = name
        self.client = client
        self.repos = {repo.lower() for repo in repos}
        names = label_names if isinstance(label_names, StateLabels) else StateLabels.from_mapping(label_names)
        self.labels = LabelWriter(client, names)
        self.comments = SessionComments(client, renderer, operators=operators, interval_s=comment_interval_s, clock=clock)
        self.renderer = renderer
        self._clock = clock
        self._put_off: dict[tuple[str, str], float] = {}
        """(issue key, session id) -> when its put-off progress edit is due."""
        self._known: OrderedDict[tuple[str, str], SessionInfo] = OrderedDict()
        self._finished: OrderedDict[tuple[str, str], tuple[float, SessionResult]] = OrderedDict()

    def handles(self, issue_key: str | None) -> bool:
        return bool(issue_key) and "#" in str(issue_key) and split_issue_key(str(issue_key))[0].lower() in self.repos

    def wants(self, event: ev.Event) -> bool:
        return isinstance(event, _WANTED) and self.handles(event.issue_key)

    def due_at(self) -> float | None:
        return min(self._put_off.values(), default=None)

    async def ensure_labels(self) -> list[str]:
        """Create the state labels in every repository now (else on the first write to each); failures as lines."""
        failures: list[str] = []
        for repo in sorted(self.repos):
            try:
                await self._attempt(failures, f"the state labels of {repo}", self.labels.ensure_repo_labels(repo))
            except SinkUnavailable as error:
                failures.append(str(error))
        return failures

    async def deliver(self, events: Sequence[ev.Event], snapshot: Snapshot) -> list[str]:
        """Sessions' comments first (a new session's must not wait behind queued labels), then labels."""
        sessions: dict[tuple[str, str], None] = {}
        issues: dict[str, None] = {}
        for event in events:
            self._remember(event)
            issues[str(event.issue_key)] = None
            if isinstance(event, _SESSION_EVENTS):
                sessions[_session_key(event)] = None
        now = self._clock()
        sessions.update((session, None) for session, due in self._put_off.items() if due <= now)
        failures: list[str] = []
        for key, session_id in sessions:
            await self._attempt(failures, f"the comment of {session_id} on {key}", self._write_session(snapshot, key, session_id))
        tasks = [task for key in issues if (task := snapshot.tasks.get(key)) is not None]
        names = self.labels.names
        for task in sorted(tasks, key=lambda task: names.for_task(task) == names.queued):
            repo, number = split_issue_key(task.key)
            move = self.labels.move_to(repo, number, task.key, names.for_task(task), polled=task.issue.labels)
            await self._attempt(failures, f"the state label of {task.key}", move)
        return failures

    async def close(self) -> None:
        """Nothing to release: the client is shared with the source and closed by whoever made it."""

    async def _write_session(self, snapshot: Snapshot, key: str, session_id: str) -> None:
        task = snapshot.tasks.get(key)
        session = (key, session_id)
        view = task and session_view(task, session_id, known=self._known.get(session), finished=self._finished.get(session))
        if view is None or view.session is None:
            self._put_off.pop(session, None)
            return
        _keep(self._known, session, view.session)
        repo, number = split_issue_key(key)
        final = view.state.is_final
        due = await self.comments.write(repo, number, session_id, self.renderer.progress(view, self._clock()), force=final)
        if due is None:
            self._put_off.pop(session, None)
        else:
            self._put_off[session] = due
        if final and view.result is not None and view.result.outcome is Outcome.FAILED and _ends_the_issue(view, session_id):
            await self.comments.notify_failure(repo, number, view, session_id)

    def _remember(self, event: ev.Event) -> None:
        """Keep what a session looked like, for its final comment once the task has a newer session."""
        match event:
            case ev.SessionStarted(session=info):
                _keep(self._known, _session_key(event), info)
            case ev.SessionProgressed(progress=progress) if (session := _session_key(event)) in self._known:
                _keep(self._known, session, replace(self._known[session], progress=progress))
            case ev.SessionFinished(result=result):
                _keep(self._finished, _session_key(event), (event.ts, result))

    async def _attempt(self, failures: list[str], what: str, write: Awaitable[None]) -> None:
        """One write: an outage or rate limit stops the batch (offered again later); other errors are lines."""
        try:
            await write
        except RateLimited as error:
            raise SinkUnavailable(f"writing {what}: {error.message}", retry_at=error.until) from error
        except GitHubUnavailable as error:
            raise SinkUnavailable(f"writing {what}: {error}", retry_at=self.client.waiting_until()) from error
        except GitHubError as error:
            if error.status == 401:  # a token that stopped working: hold everything until it is replaced
                raise SinkUnavailable(f"writing {what}: {error}") from error
            failures.append(f"writing {what}: {error}")


def _ends_the_issue(task: TaskRecord, session_id: str) -> bool:
    """A failure the operator must act on: not one retried by itself, nor a host-wide one
    (that pauses dispatch and is announced once, not on every issue)."""
    attempt = next((item for item in reversed(task.history) if item.session_id == session_id), None)
    return attempt is None or not (attempt.will_retry or attempt.host_wide)


GitHubReporter = GitHubSink
"""The former name, kept while callers move to the sink."""


def _session_key(event: ev.SessionStarted | ev.SessionProgressed | ev.SessionFinished) -> tuple[str, str]:
    """(issue key, session id): a session is always looked at on its own issue."""
    session_id = event.session.session_id if isinstance(event, ev.SessionStarted) else event.session_id
    return event.issue, session_id


def _keep(memory: OrderedDict[tuple[str, str], _V], key: tuple[str, str], value: _V) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > SESSIONS_REMEMBERED:
        memory.popitem(last=False)
