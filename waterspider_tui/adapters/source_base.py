"""The contract of an issue source (local folder, GitHub) and of a reporter back to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from waterspider_tui.core.models import Issue

if TYPE_CHECKING:
    from waterspider_tui.core.events import Event
    from waterspider_tui.core.state import Snapshot


@dataclass(frozen=True)
class Rejection:
    """An issue the source could not read: where, and what is wrong, in one line."""

    path: str
    error: str
    issue_key: str | None = None


@dataclass
class PollResult:
    """One poll of a source: the whole current set of open issues it offers for work.

    When `ok` is False the poll failed and `issues` is meaningless: the engine keeps the
    last good set (nothing is dropped because an API was down).
    """

    issues: list[Issue] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)
    """Issue key -> why it is held back (untrusted label or edit)."""
    warnings: list[str] = field(default_factory=list)
    """Problems with issues that are still offered (a dependency on itself), one line each.

    Like `rejected`, the whole current set on every poll: record the ones not recorded yet."""
    ok: bool = True
    message: str = ""
    rate_remaining: int | None = None
    rate_limit: int | None = None
    wait_until: float | None = None
    """Set while a rate limit makes the source wait; shown to the operator."""
    advice: str = ""
    """What the operator can do about a failure (check the token), said once rather than on every poll."""


class IssueSource(Protocol):
    """Something that lists the open issues to work on."""

    name: str

    async def poll(self) -> PollResult:
        """Fetch the current set; must not raise for remote failures (return ok=False)."""
        ...

    async def close(self) -> None:
        ...


class Reporter(Protocol):
    """Something that reports progress back where the issue lives (comments, labels).

    A reporter may also offer `take_errors() -> list[str]`: the engine shows what it returns
    as warnings, so a comment that could not be written does not go unnoticed.
    """

    async def on_event(self, event: Event, snapshot: Snapshot) -> None:
        """Called after each event is stored; must not raise and must not block long."""
        ...

    async def close(self) -> None:
        ...
