"""What is worth a message: the kinds a channel can switch, and one notice."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NoticeKind(str, enum.Enum):
    """The kinds a channel can switch on or off (`[notify.slack] events`)."""

    FAILED = "failed"
    """A session failed for good: not retried by itself, not a host-wide failure."""
    OPERATOR = "operator"
    """Someone must act: an issue held for trust, a dependency cycle; also @mentions on failures."""
    MILESTONE = "milestone"
    """A milestone completed, or a failure blocks it."""
    PAUSED = "paused"
    """Dispatch paused by itself (rate or usage limit, budget, host-wide failure, no host answering) or resumed."""
    HOST_DOWN = "host_down"
    """An executor host became unreachable, or came back."""
    IDLE = "idle"
    """Nothing runs and nothing can start: the run's summary."""
    DIGEST = "digest"
    """Once a day: what finished, what failed, what it cost, where the milestones stand."""


ALL_KINDS = frozenset(NoticeKind)


@dataclass(frozen=True)
class Notice:
    """One thing to tell; several are batched into one message."""

    key: str
    """Unique per thing told (`12:failed`), so a batch offered again does not repeat it."""
    kind: NoticeKind
    ts: float
    seq: int
    """The stored event it came from; 0 for what was read from the snapshot alone."""
    label: str
    """`#12`, a host or a milestone name: shown as the link text."""
    text: str
    url: str = ""
    severity: str = "error"
    """`error`, `warning` or `info`."""
    details: tuple[str, ...] = ()
    """More lines (a digest's or an idle summary's)."""
    needs_operator: bool = False
    """Mentions are added to the message when this is set and the channel wants `operator`."""
    hint: str = ""
    """What the operator can do; said once per message for notices that share it."""
