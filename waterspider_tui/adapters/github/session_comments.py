"""The one progress comment per session: found again by its marker, edited in place, plus the failure notice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import TaskRecord


class CommentRenderer(Protocol):
    """What the reporter needs to write comments; `reporting.progress_comment.ProgressCommentRenderer` is one.

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
    last_body: str = ""
    last_edit_at: float = float("-inf")
    failure_posted: bool = False


class SessionComments:
    """Writes each session's comment through the client; remembers comment ids per session."""

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
        """At most one progress edit per session this often; forced writes (start, finish) ignore it."""
        self._clock = clock
        self._sessions: dict[str, _SessionComment] = {}

    async def write_progress(self, repo: str, number: int, task: TaskRecord, session_id: str, *, force: bool) -> None:
        """Create or find the session's comment, then edit it when due and changed."""
        if task.session is None or task.session.session_id != session_id:
            return
        comment = self._sessions.get(session_id) or await self._find_or_create(repo, number, task, session_id)
        now = self._clock()
        if not force and now - comment.last_edit_at < self.interval_s:
            return
        body = self.renderer.progress(task, now)
        if body != comment.last_body:
            await self.client.patch(f"/repos/{repo}/issues/comments/{comment.comment_id}", {"body": body})
            comment.last_body = body
        comment.last_edit_at = now

    async def _find_or_create(self, repo: str, number: int, task: TaskRecord, session_id: str) -> _SessionComment:
        """After a restart the marker finds the comment we already posted, so none is posted twice."""
        marker = self.renderer.session_marker(session_id)
        failure = self.renderer.failure_marker(session_id)
        existing, _ = await self.client.paginate(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100})
        found: dict[str, Any] | None = None
        failure_posted = False
        for item in existing:
            body = str(item.get("body") or "") if isinstance(item, dict) else ""
            found = item if marker in body and found is None else found
            failure_posted = failure_posted or failure in body
        if found is not None:
            comment = _SessionComment(int(found["id"]), str(found.get("body") or ""), failure_posted=failure_posted)
        else:
            body = self.renderer.progress(task, self._clock())
            created = await self.client.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})
            comment = _SessionComment(int(created.data["id"]), body, self._clock(), failure_posted)
        self._sessions[session_id] = comment
        return comment

    async def notify_failure(self, repo: str, number: int, task: TaskRecord, session_id: str) -> None:
        comment = self._sessions.get(session_id)
        mentions = self.renderer.failure_mentions(task, self.operators)
        if comment is None or comment.failure_posted or not mentions:
            return
        body = self.renderer.failure_notice(task, mentions)
        await self.client.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})
        comment.failure_posted = True
