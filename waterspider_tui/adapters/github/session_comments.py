"""The one progress comment per session: found again by its marker, edited in place, plus the failure notice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import TaskRecord


class CommentRenderer(Protocol):
    """What the GitHub sink needs to write comments; `reporting.progress_comment.ProgressCommentRenderer` is one.

    It is passed in because `adapters` and `reporting` are independent layers in the
    import contract: the engine, above both, joins them.
    """

    def session_marker(self, session_id: str) -> str: ...
    def failure_marker(self, session_id: str) -> str: ...
    def failure_mentions(self, task: TaskRecord, operators: Sequence[str]) -> tuple[str, ...]: ...
    def progress(self, task: TaskRecord, now: float) -> str: ...
    def failure_notice(self, task: TaskRecord, mentions: Sequence[str]) -> str: ...


@dataclass
class _SessionComment:
    comment_id: int
    body: str
    edited_at: float = float("-inf")
    failure_posted: bool = False


class SessionComments:
    """Writes each session's comment through the client; remembers comment ids per session.

    The first write for a session in a process lists the issue's comments: after a restart
    the hidden markers find the comment (and failure notice) already posted, so neither is
    posted twice.
    """

    def __init__(
        self,
        client: GitHubClient,
        renderer: CommentRenderer,
        *,
        operators: Sequence[str] = (),
        interval_s: float = 20.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.renderer = renderer
        self.operators = tuple(operators)
        self.interval_s = interval_s
        """At most one edit per session this often, unless forced (a session's final state)."""
        self._clock = clock
        self._sessions: dict[tuple[str, int, str], _SessionComment] = {}
        """(repo, issue number, session id) -> its comment as last written or found."""

    async def write(self, repo: str, number: int, session_id: str, body: str, *, force: bool) -> float | None:
        """Make the session's comment say `body`; None once it does, else when the put-off edit is due."""
        comment = self._sessions.get((repo, number, session_id)) or await self._find_or_create(repo, number, session_id, body)
        if comment.body == body:
            return None
        due = comment.edited_at + self.interval_s
        if not force and self._clock() < due:
            return due
        try:
            await self.client.patch(f"/repos/{repo}/issues/comments/{comment.comment_id}", {"body": body})
        except GitHubError as error:
            if error.status != 404:
                raise
            # Someone deleted it: the session gets a new one rather than no comment at all.
            del self._sessions[(repo, number, session_id)]
            await self._find_or_create(repo, number, session_id, body)
            return None
        comment.body, comment.edited_at = body, self._clock()
        return None

    async def _find_or_create(self, repo: str, number: int, session_id: str, body: str) -> _SessionComment:
        marker = self.renderer.session_marker(session_id)
        failure = self.renderer.failure_marker(session_id)
        existing, _ = await self.client.paginate(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100})
        found: dict[str, Any] | None = None
        failure_posted = False
        for item in existing:
            text = str(item.get("body") or "") if isinstance(item, dict) else ""
            # Ours start with the marker; a reply quoting ours only contains it.
            if found is None and text.startswith(marker):
                found = item
            failure_posted = failure_posted or text.startswith(failure)
        if found is not None:
            comment = _SessionComment(int(found["id"]), str(found.get("body") or ""), failure_posted=failure_posted)
        else:
            created = await self.client.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})
            comment = _SessionComment(int(created.data["id"]), body, self._clock(), failure_posted)
        self._sessions[(repo, number, session_id)] = comment
        return comment

    async def notify_failure(self, repo: str, number: int, task: TaskRecord, session_id: str) -> None:
        """Post the @mention notice once per failed session (after `write`, which found what exists)."""
        comment = self._sessions.get((repo, number, session_id))
        mentions = self.renderer.failure_mentions(task, self.operators)
        if comment is None or comment.failure_posted or not mentions:
            return
        body = self.renderer.failure_notice(task, mentions)
        await self.client.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})
        comment.failure_posted = True
