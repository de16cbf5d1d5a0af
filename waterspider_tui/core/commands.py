"""What an operator (or a front end) asks the engine to do; each becomes an event if valid."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    by: str = "operator"


@dataclass(frozen=True)
class PauseDispatcher(Command):
    reason: str = ""


@dataclass(frozen=True)
class ResumeDispatcher(Command):
    pass


@dataclass(frozen=True)
class PauseIssue(Command):
    issue: str = ""


@dataclass(frozen=True)
class ResumeIssue(Command):
    issue: str = ""


@dataclass(frozen=True)
class Bump(Command):
    issue: str = ""
    delta: int = 1


@dataclass(frozen=True)
class Pin(Command):
    issue: str = ""
    pinned: bool = True


@dataclass(frozen=True)
class Requeue(Command):
    issue: str = ""


@dataclass(frozen=True)
class Cancel(Command):
    issue: str = ""


@dataclass(frozen=True)
class Refresh(Command):
    """Poll the sources now instead of at the next interval."""
