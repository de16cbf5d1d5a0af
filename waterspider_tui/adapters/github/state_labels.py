"""Labels as visible state (`agent:queued`, `agent:running`, `agent:done`, `agent:failed`) and how to set them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping
from urllib.parse import quote

from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient

log = logging.getLogger(__name__)


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


_STYLE = {
    "queued": ("c5def5", "Waiting for a waterspider agent"),
    "running": ("fbca04", "A waterspider agent is working on this"),
    "done": ("0e8a16", "A waterspider agent finished this"),
    "failed": ("d93f0b", "A waterspider agent could not finish this"),
}


class LabelWriter:
    """Creates the state labels once on purpose, then moves issues between them.

    Adding a label name GitHub does not know creates it silently, so a typo would spread;
    creating ours first and only ever adding those names keeps the label list clean.
    """

    def __init__(self, client: GitHubClient, names: StateLabels) -> None:
        self._client = client
        self.names = names
        self._ready_repos: set[str] = set()
        self._seen: dict[str, set[str]] = {}
        """Issue key -> the state labels the last poll showed on it."""
        self._ours: dict[str, set[str]] = {}
        """Issue key -> state labels we added and have not removed; a poll may not show them yet."""

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

    def saw(self, key: str, labels: Iterable[str]) -> None:
        """What a poll says the issue carries now."""
        state_names = set(self.names.all())
        self._seen[key] = {label for label in labels if label in state_names}

    async def move_to(self, repo: str, number: int, key: str, target: str | None) -> None:
        """Add `target` (if not there) and remove the other state labels that may be there."""
        await self.ensure_repo_labels(repo)
        seen = self._seen.setdefault(key, set())
        ours = self._ours.setdefault(key, set())
        if target is not None and target not in seen | ours:
            await self._client.post(f"/repos/{repo}/issues/{number}/labels", {"labels": [target]})
            ours.add(target)
        for name in [name for name in self.names.all() if name != target and name in seen | ours]:
            try:
                await self._client.delete(f"/repos/{repo}/issues/{number}/labels/{quote(name, safe='')}")
            except GitHubError as error:
                if error.status != 404:  # already gone: that is what we wanted
                    raise
            seen.discard(name)
            ours.discard(name)
