"""Labels as visible state (`agent:queued`, `agent:running`, `agent:done`, `agent:failed`) and how to set them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping
from urllib.parse import quote

from waterspider_tui.adapters.github.errors import GitHubError
from waterspider_tui.core.models import TaskState

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.state import TaskRecord

NO_STATE_LABEL = ""
"""The target that means: none of the state labels (a cancelled issue)."""


@dataclass(frozen=True)
class StateLabels:
    """The configurable names of the four state labels."""

    queued: str = "agent:queued"
    running: str = "agent:running"
    done: str = "agent:done"
    failed: str = "agent:failed"

    @classmethod
    def from_mapping(cls, names: Mapping[str, str] | None) -> StateLabels:
        """From config's `{"queued": ..., "running": ..., "done": ..., "failed": ...}`; missing keys keep defaults."""
        known = {key: value for key, value in (names or {}).items() if key in cls.__dataclass_fields__ and value}
        return cls(**known)

    def all(self) -> tuple[str, ...]:
        return (self.queued, self.running, self.done, self.failed)

    def for_task(self, task: TaskRecord) -> str | None:
        """The state label the task should carry now; NO_STATE_LABEL for none, None to leave it alone.

        A held issue and one gone upstream keep whatever they carry.
        """
        if task.state is TaskState.QUEUED:
            return None if task.held_reason else self.queued
        targets = {
            TaskState.RUNNING: self.running, TaskState.SUCCEEDED: self.done, TaskState.FAILED: self.failed,
            TaskState.CANCELLED: NO_STATE_LABEL,
        }
        return targets.get(task.state)


_STYLE = {
    "queued": ("c5def5", "Waiting for a waterspider agent"),
    "running": ("fbca04", "A waterspider agent is working on this"),
    "done": ("0e8a16", "A waterspider agent finished this"),
    "failed": ("d93f0b", "A waterspider agent could not finish this"),
}


class LabelWriter:
    """Creates the state labels once on purpose, then moves issues between them.

    Adding a label name GitHub does not know creates it silently, so a typo would spread;
    creating ours first and only ever adding those names keeps the label list clean. What an
    issue carries is read from GitHub once per process (a poll may be older than our last
    write, and a restart forgets it), then kept up to date from the answers to our writes.
    """

    def __init__(self, client: GitHubClient, names: StateLabels) -> None:
        self._client = client
        self.names = names
        self._ready_repos: set[str] = set()
        self._on_issue: dict[str, set[str]] = {}
        """Issue key -> the state labels (lower case) it carries, as far as we know."""

    async def ensure_repo_labels(self, repo: str) -> None:
        """Create the four labels if missing; one created meanwhile (422 `already_exists`) is fine.

        One read first spares the writes, which count toward GitHub's content-creation limits.
        """
        if repo in self._ready_repos:
            return
        existing, _ = await self._client.paginate(f"/repos/{repo}/labels", {"per_page": 100})
        existing_names = {str(label.get("name", "")).lower() for label in existing if isinstance(label, dict)}
        for field_name, name in zip(("queued", "running", "done", "failed"), self.names.all()):
            if name.lower() in existing_names:
                continue
            color, description = _STYLE[field_name]
            try:
                await self._client.post(f"/repos/{repo}/labels", {"name": name, "color": color, "description": description})
            except GitHubError as error:
                if not (error.status == 422 and error.has_code("already_exists")):
                    raise
        self._ready_repos.add(repo)

    async def move_to(self, repo: str, number: int, key: str, target: str | None, *, polled: Iterable[str] = ()) -> None:
        """Make `target` the issue's only state label (NO_STATE_LABEL: none); None leaves it as it is.

        Writes only what differs, so moving an issue where it already is costs nothing. The
        first move in a process learns what the issue carries from GitHub: from the answer to
        adding `target` when the last poll (`polled`) lacks it, else by reading the labels,
        since that poll may predate a write of an earlier process.
        """
        if target is None:
            return
        wanted = target.lower()
        current = self._on_issue.get(key)
        if current is None and (not wanted or wanted in self._state_labels(list(polled))):
            items, _ = await self._client.paginate(f"/repos/{repo}/issues/{number}/labels", {"per_page": 100})
            current = self._on_issue[key] = self._state_labels(items)
        if wanted and (current is None or wanted not in current):
            await self.ensure_repo_labels(repo)
            answer = await self._client.post(f"/repos/{repo}/issues/{number}/labels", {"labels": [target]})
            current = self._on_issue[key] = (current or set()) | self._state_labels(answer.data) | {wanted}
        for name in sorted((current or set()) - {wanted}):
            try:
                await self._client.delete(f"/repos/{repo}/issues/{number}/labels/{quote(name, safe='')}")
            except GitHubError as error:
                if error.status != 404:  # already gone: that is what we wanted
                    raise
            self._on_issue[key].discard(name)

    def _state_labels(self, labels: object) -> set[str]:
        """The state labels (lower case) among label names or GitHub's label objects."""
        ours = {name.lower() for name in self.names.all()}
        items = labels if isinstance(labels, (list, tuple, set, frozenset)) else ()
        names = {str(item.get("name", "") if isinstance(item, dict) else item).lower() for item in items}
        return names & ours
