"""The GitHub sink as the engine runs it: a real event log and state store in a temporary folder, an outbox, the fake GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from waterspider_tui.adapters.github.client import GitHubClient
from waterspider_tui.adapters.github.reporter import GitHubSink
from waterspider_tui.adapters.sinks.outbox import Outbox
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue
from waterspider_tui.core.state import Snapshot
from waterspider_tui.reporting.progress_comment import ProgressCommentRenderer
from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.sink_cursors import SinkCursors
from waterspider_tui.store.state_store import StateStore

from .conftest import FakeTime
from .fake_github import FakeGitHub
from .snapshots import Story

REPO = "octo/app"
TRIGGER = "trigger:agent-execute"
STATE_LABELS = {"agent:queued", "agent:running", "agent:done", "agent:failed"}


class Orchestrator:
    """One orchestrator process's view: the store on `db`, a fresh client, sink and outbox.

    A second one on the same `db` is what a restart looks like: nothing in memory survives,
    only what the store (and GitHub) kept.
    """

    def __init__(self, db: Path, client: GitHubClient, fake_time: FakeTime | None = None, **sink_options: Any) -> None:
        sink_options.setdefault("renderer", ProgressCommentRenderer())
        timing: dict[str, Any] = {}
        if fake_time is not None:
            sink_options.setdefault("clock", fake_time.clock)
            timing = {"clock": fake_time.clock, "sleep": fake_time.sleep}
        self.log = EventLog(db)
        self.store = StateStore(self.log)
        self.cursors = SinkCursors(db)
        self.sink = GitHubSink(client, [REPO], **sink_options)
        self.warnings: list[str] = []
        self.outbox = Outbox(
            self.log, self.sink, cursors=self.cursors, snapshot=lambda: self.store.snapshot,
            warn=self.warnings.append, jitter=lambda: 0.5, **timing,
        )

    def record(self, *steps: ev.Event | tuple[ev.Event, Snapshot]) -> None:
        """Store events (or a Story's (event, snapshot) steps) as the engine would."""
        self.store.record([step[0] if isinstance(step, tuple) else step for step in steps])

    async def tell(self, *steps: ev.Event | tuple[ev.Event, Snapshot], deadline_s: float = 3600.0) -> int:
        """Record, then drain the outbox; returns what is left undelivered."""
        self.record(*steps)
        return await self.outbox.drain(deadline_s=deadline_s)

    def close(self) -> None:
        self.cursors.close()
        self.log.close()


def new_story(github: FakeGitHub, assignees: tuple[str, ...] = (), title: str = "Add login") -> Story:
    fake_issue = github.add_issue(REPO, title, labels=[TRIGGER], labeled_by="maintainer", assignees=assignees)
    return Story(Issue(repo=REPO, number=fake_issue.number, title=title, labels=(TRIGGER,), assignees=assignees))


def labels_on(github: FakeGitHub, number: int) -> set[str]:
    return set(github.issue(REPO, number).labels) - {TRIGGER}


def ours(github: FakeGitHub, number: int, predicate: Callable[[str], bool] = lambda body: True) -> list[str]:
    """The bodies of the bot's comments on an issue."""
    return [c.body for c in github.comments_on(REPO, number) if c.user == "waterspider-bot" and predicate(c.body)]


def writes(github: FakeGitHub, path: str | None = None) -> int:
    return sum(github.count(method, path) for method in ("POST", "PATCH", "DELETE", "PUT"))
