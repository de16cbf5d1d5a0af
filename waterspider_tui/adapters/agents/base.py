"""The contract every agent kind keeps: a launch spec from a session context, and a parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Agent", "EnvPolicy", "LaunchError", "LaunchSpec", "LogEntry", "SessionContext", "StreamParser"]

from waterspider_tui.core.models import ErrorClass, LogEntry, Progress, SessionResult


@dataclass(frozen=True)
class SessionContext:
    """Everything an agent launch may need to know about its issue and its place."""

    issue_key: str
    number: int
    repo: str
    title: str
    body: str
    labels: tuple[str, ...]
    branch: str
    worktree: str
    session_dir: str
    attempt: int = 1
    resume_agent_session: str = ""
    """The agent's own session id to resume (Claude Code `--resume`), empty for a fresh start."""
    follow_up: str = ""
    """What a step after the last session sends back with it (a failed gate's output): it follows
    the prompt of Claude Code and Codex, and a command finds it in WATERSPIDER_FOLLOW_UP_FILE."""
    seed: int = 0


@dataclass(frozen=True)
class LaunchSpec:
    """A ready-to-run command: argv, the full environment for the child, and its cwd.

    Executors run it with stdin from `stdin_file`, else from /dev/null (never an open pipe:
    Claude Code and Codex wait for input on one). `env` is complete (built from the EnvPolicy
    allowlist), not added to the parent's.
    """

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    agent_session_id: str = ""
    """The agent's session id when we choose it up front (Claude Code `--session-id`)."""
    stdin_file: str = ""
    """A file to open as the child's stdin (the prompt), relative to the session folder; empty: /dev/null.

    Why a file rather than an argument: one argument may hold at most 128 KiB on Linux, and an
    issue body can be longer; the file also keeps the prompt out of every process listing."""
    files: dict[str, str] = field(default_factory=dict)
    """Files of the session folder (name -> text), such as the prompt and the issue body.

    `launch` has written them into the local session folder already; an executor that runs
    the session on another host writes them into the session folder there before the start."""


class LaunchError(Exception):
    """A session that cannot be launched as configured; the message says why and what to change."""

    def __init__(self, message: str, error_class: ErrorClass) -> None:
        super().__init__(message)
        self.error_class = error_class
        """How the session's failure is classed (and so whether it is retried)."""


class StreamParser(Protocol):
    """Reads an agent's stdout line by line; never raises on bad input."""

    def feed(self, line: str) -> list[LogEntry]:
        """Take one line (without its newline); return what it shows to a reader."""
        ...

    def progress(self) -> Progress:
        """Progress so far: phase, todos, turns, cost, last activity."""
        ...

    def finish(self, exit_code: int | None, *, stalled: bool = False, timed_out: bool = False) -> SessionResult:
        """The session's result once the process has ended (exit_code None: unknown)."""
        ...


class Agent(Protocol):
    """One kind of agent (claude, codex, command, simulated)."""

    name: str

    def launch(self, context: SessionContext) -> LaunchSpec:
        """The command that runs this agent for one session."""
        ...

    def parser(self) -> StreamParser:
        """A fresh parser for one session's stream."""
        ...


@dataclass
class EnvPolicy:
    """Which of the orchestrator's environment variables reach an agent (an allowlist)."""

    allow: tuple[str, ...] = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "SHELL", "TZ")
    extra: dict[str, str] = field(default_factory=dict)
    """Variables the operator adds on purpose (an API key for the agent, say)."""
