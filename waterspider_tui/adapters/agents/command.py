"""Any program as an agent: argv from a template, the issue in its environment, the outcome from its exit code.

Exit-code contract for a command agent:

    0    succeeded
    2    failed, do not retry (class agent_exit)
    75   failed, retry later (EX_TEMPFAIL from sysexits.h), e.g. an API was busy (class agent_retry_later)
    127  program not found (126, not executable, counts the same)
    any other exit, or death by a signal: crashed (the usual retry policy applies)

The program runs in the issue's worktree with `{number}` `{title}` `{branch}` `{worktree}`
`{repo}` filled into its argv, and reads the rest from its environment: WATERSPIDER_ISSUE_NUMBER,
_TITLE, _BODY_FILE (the body, written to the session dir), _LABELS (comma separated), _KEY,
_REPO, _BRANCH, _WORKTREE, _SESSION_DIR, _ATTEMPT, _SEED (all prefixed WATERSPIDER_ISSUE), and
WATERSPIDER_FOLLOW_UP_FILE when the last session's steps sent it back (a failed gate's output).
Its stdin is empty (/dev/null). `{body}` in argv suits short bodies only: one argument may hold
128 KiB, and a launch that would not fit fails as prompt_too_long. Its stdout is the log, one
entry per line (lines starting with "error" show as errors), and its last line is the progress
shown for it.
"""

from __future__ import annotations

import re
import shlex
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from waterspider_tui.adapters.agents.base import EnvPolicy, LaunchSpec, LogEntry, SessionContext
from waterspider_tui.adapters.agents.environment import (
    BODY_FILE,
    FOLLOW_UP_FILE,
    agent_env,
    check_command_size,
    fill_template,
    issue_env,
    template_values,
    body_file_path,
    follow_up_env,
)
from waterspider_tui.adapters.agents.exit_status import NOT_FOUND_EXIT_CODES, describe_exit
from waterspider_tui.text.log_text import as_text, clean, one_line
from waterspider_tui.core.models import ErrorClass, Outcome, Progress, SessionResult

EXIT_SUCCEEDED = 0
EXIT_FAILED_FINAL = 2
EXIT_RETRY_LATER = 75

EXIT_CODE_CONTRACT = (
    "0 succeeded · 2 failed, do not retry · 75 failed, retry later (EX_TEMPFAIL) · "
    "127 program not found · anything else or a signal: crashed"
)
"""The contract in one line, for help texts and the README."""

_ERROR_LINE = re.compile(r"^\s*error\b", re.IGNORECASE)


@dataclass(frozen=True)
class CommandOptions:
    """How to run the program: its argv template, and which extra variables it may see."""

    argv: tuple[str, ...] | str
    """The command, as a list or a shell-like string (split with shlex, never run by a shell)."""
    env_allow: tuple[str, ...] = ()
    """Names (or globs) of our variables the program needs beyond the policy's allowlist."""
    env: dict[str, str] = field(default_factory=dict)
    """Fixed values for the program's environment."""


class CommandStreamParser:
    """Plain stdout as the log; the exit code decides the outcome (see the module docstring)."""

    agent_kind = "command"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tail: deque[str] = deque(maxlen=20)
        self._first_output_at = 0.0
        self._last_output_at = 0.0
        self.session_id = ""
        self.model = ""
        self.tool_counts: dict[str, int] = {}
        self.tokens: dict[str, int] = {}
        self.saw_end = False
        """Plain output has no end marker; only the exit code tells."""

    @property
    def final_text(self) -> str:
        """The program's last lines of output."""
        return "\n".join(self._tail)

    def feed(self, line: str) -> list[LogEntry]:
        """One stdout line as one entry; blank lines give nothing."""
        text = clean(as_text(line).rstrip())
        self._last_output_at = self._clock()
        self._first_output_at = self._first_output_at or self._last_output_at
        if not text.strip():
            return []
        self._tail.append(text)
        return [LogEntry("error" if _ERROR_LINE.match(text) else "text", text)]

    def progress(self) -> Progress:
        """The last line printed is the phase; a command keeps no todo list."""
        last_line = one_line(self._tail[-1], 80) if self._tail else ""
        return Progress(phase=last_line or "starting", last_activity=last_line, last_output_at=self._last_output_at)

    def finish(self, exit_code: int | None, *, stalled: bool = False, timed_out: bool = False) -> SessionResult:
        """The outcome by the exit-code contract; a stall or timeout (we killed it) wins over the code."""
        how = describe_exit(exit_code)
        error_class: ErrorClass | None
        if timed_out:
            error_class, error = ErrorClass.TIMEOUT, f"timed out ({how})"
        elif stalled:
            error_class, error = ErrorClass.STALLED, f"stopped producing output ({how})"
        elif exit_code == EXIT_SUCCEEDED:
            error_class, error = None, ""
        elif exit_code == EXIT_FAILED_FINAL:
            # Its own classes: exit codes mean "bad output" or "API overloaded" only for the Claude and Codex CLIs.
            error_class, error = ErrorClass.AGENT_EXIT, "the command exited 2 (failed, not to be retried)"
        elif exit_code == EXIT_RETRY_LATER:
            error_class, error = ErrorClass.AGENT_RETRY_LATER, "the command exited 75 (retry later)"
        elif exit_code in NOT_FOUND_EXIT_CODES:
            error_class, error = ErrorClass.AGENT_NOT_FOUND, f"program not found or not executable ({how})"
        else:
            error_class, error = ErrorClass.CRASHED, f"the agent crashed ({how})"
        if error_class and self._tail:
            error = f"{error}: {one_line(self._tail[-1], 200)}"
        return SessionResult(
            outcome=Outcome.FAILED if error_class else Outcome.SUCCEEDED,
            error_class=error_class,
            error=error,
            summary=self.final_text,
            duration_s=max(self._last_output_at - self._first_output_at, 0.0),
            exit_code=exit_code,
        )


class CommandAgent:
    """An Agent that runs the configured program for each issue."""

    name = "command"

    def __init__(self, options: CommandOptions, env_policy: EnvPolicy) -> None:
        argv = shlex.split(options.argv) if isinstance(options.argv, str) else tuple(options.argv)
        if not argv:
            raise ValueError("command agent: `argv` is empty; give the program to run, e.g. ['./agent.sh', '{number}']")
        self.argv_template = tuple(argv)
        self.options = options
        self.env_policy = env_policy

    def launch(self, context: SessionContext) -> LaunchSpec:
        """The filled argv, run in the worktree, with the issue body written to the session dir."""
        values = template_values(context)
        argv = tuple(fill_template(part, values) for part in self.argv_template)
        body_file = body_file_path(context)
        env = agent_env(
            self.env_policy,
            agent_allow=self.options.env_allow,
            defaults=self.options.env,
            issue={**issue_env(context, body_file), **follow_up_env(context)},
        )
        check_command_size(argv, env)
        files = {BODY_FILE: context.body, **({FOLLOW_UP_FILE: context.follow_up} if context.follow_up.strip() else {})}
        return LaunchSpec(argv=argv, env=env, cwd=context.worktree, files=files)

    def parser(self) -> CommandStreamParser:
        return CommandStreamParser()
