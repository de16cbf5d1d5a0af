"""The completion gate: the repository's checks and rules on the branch before it goes anywhere.

It runs in the session's worktree through the session's executor: commands (tests, linters)
with timeouts, at least one commit, a maximum diff size, and paths that must not change. A
failure sends the session back to the agent with the output, up to `max_rounds` times, then
fails it as `gate_failed`. Running it twice is harmless: it only reads the branch.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.core.models import ErrorClass, Outcome

if TYPE_CHECKING:
    from waterspider_tui.core.models import SessionResult
    from waterspider_tui.core.state import TaskRecord


class GateCommand(BaseModel):
    """A command of the gate: a table, or just the shell line (or argv list), which then names itself."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _from_plain(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value if len(value) <= 40 else value[:39] + "…", "run": value}
        if isinstance(value, list) and value and all(isinstance(word, str) for word in value):
            line = " ".join(value)
            return {"name": line if len(line) <= 40 else line[:39] + "…", "run": value}
        return value

    name: str
    """Shown in the results (`tests`, `lint`)."""
    run: str | list[str]
    """A shell line (run with `sh -c`) or an argv list."""
    timeout_s: float = Field(600.0, gt=0)


class GateOptions(BaseModel):
    """`[pipeline.gate]` in waterspider.toml."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """False lets every branch through (the step still records that it was off)."""
    commands: list[GateCommand] = []
    require_commit: bool = True
    """The branch must have at least one commit beyond its base."""
    max_diff_lines: int | None = Field(None, ge=1)
    """Lines added plus deleted against the base, at most."""
    max_files_changed: int | None = Field(None, ge=1)
    protected_paths: list[str] = []
    """Paths the branch must not touch: globs (`.github/*`, `*.lock`) or folders (`migrations/`)."""
    max_rounds: int = Field(2, ge=0)
    """How many times a failing gate sends the session back to the agent before it fails."""
    output_tail_chars: int = Field(4000, ge=200)
    """Of each failing command's output, the last this many characters are kept."""
    env: dict[str, str] = {}
    """Variables set for the commands (on top of PATH, HOME and the locale; no secrets are passed)."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    """One short phrase: `exit 1 after 3.2s`, `2 commits`, `touched .github/ci.yml`."""
    output: str = ""


def rounds_used(task: TaskRecord) -> int:
    """How many times in a row this issue's latest sessions ended in a failed gate."""
    used = 0
    for attempt in reversed(task.history):
        if attempt.error_class is not ErrorClass.GATE_FAILED:
            break
        used += 1
    return used


def is_protected(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        folder = pattern.rstrip("/")
        if fnmatch.fnmatchcase(path, pattern) or path == folder or path.startswith(folder + "/"):
            return True
    return False


def _numstat(text: str) -> list[tuple[int, str]]:
    """(lines added + deleted, path) per file of `git diff --numstat` (or of `git log --numstat`, a
    file's lines summed over its commits); binary files count 0 lines."""
    files: dict[str, int] = {}
    for line in text.splitlines():
        added, _, rest = line.partition("\t")
        deleted, _, path = rest.partition("\t")
        if path:
            files[path] = files.get(path, 0) + (int(added) if added.isdigit() else 0) + (int(deleted) if deleted.isdigit() else 0)
    return [(count, path) for path, count in files.items()]


class Gate:
    """Runs the configured checks; every check runs, so the agent hears about all of them at once."""

    name = "gate"

    def __init__(self, options: GateOptions | None = None) -> None:
        self.options = options or GateOptions()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Gate:
        return cls(GateOptions.model_validate(dict(options)))

    def applies(self, result: SessionResult) -> bool:
        return result.outcome is Outcome.SUCCEEDED

    async def run(self, context: StepContext) -> StepOutcome:
        options = self.options
        if not options.enabled:
            return StepOutcome(ok=True, summary="gate off", facts={"gate": "off"})
        checks = await self._branch_checks(context)
        for command in options.commands:
            checks.append(await self._command(context, command))
        line = "; ".join(f"{check.name} {'ok' if check.ok else 'FAILED'} ({check.detail})" for check in checks)
        failed = [check for check in checks if not check.ok]
        if not failed:
            return StepOutcome(ok=True, summary=f"gate passed: {line}", facts={"gate": "passed", "gate_checks": line})
        used = rounds_used(context.task)
        output = "\n\n".join(f"$ {check.name}: {check.detail}\n{check.output}".rstrip() for check in failed)
        facts: dict[str, int | float | str] = {"gate": "failed", "gate_checks": line, "gate_output": output, "gate_round": used + 1}
        retry = feedback_prompt(failed, used + 1, options.max_rounds) if used < options.max_rounds else ""
        summary = f"gate failed: {', '.join(f'{check.name} ({check.detail})' for check in failed)}"
        if retry:
            summary += f"; back to the agent (round {used + 1} of {options.max_rounds})"
        return StepOutcome(ok=False, summary=summary, error_class=ErrorClass.GATE_FAILED.value, facts=facts, retry_with_prompt=retry)

    async def _branch_checks(self, context: StepContext) -> list[CheckResult]:
        options, session, executor = self.options, context.session, context.executor
        checks: list[CheckResult] = []
        base, branch = context.base, session.branch
        if options.require_commit:
            counted = await executor.git(session, "rev-list", "--count", *context.own_commits)
            if counted.returncode != 0:
                checks.append(CheckResult("commits", False, f"cannot count commits: {counted.stderr.strip()[:200]}"))
            else:
                commits = int(counted.stdout.strip() or 0)
                detail = f"{commits} commit{'s' if commits != 1 else ''}" if commits else f"no commit beyond {base}"
                checks.append(CheckResult("commits", commits > 0, detail))
        if options.max_diff_lines is None and options.max_files_changed is None and not options.protected_paths:
            return checks
        if context.blockers_merged_in:
            # Its other blockers' work came in by merge: measure its own commits only.
            diff = await executor.git(session, "log", "--format=", "--numstat", "--no-renames", *context.own_commits)
        else:
            diff = await executor.git(session, "diff", "--numstat", "--no-renames", f"{base}...{branch}")
        if diff.returncode != 0:
            checks.append(CheckResult("diff", False, f"cannot diff against {base}: {diff.stderr.strip()[:200]}"))
            return checks
        files = _numstat(diff.stdout)
        lines = sum(count for count, _ in files)
        if options.max_diff_lines is not None:
            checks.append(CheckResult("diff size", lines <= options.max_diff_lines, f"{lines} lines, at most {options.max_diff_lines}"))
        if options.max_files_changed is not None:
            checks.append(CheckResult("files changed", len(files) <= options.max_files_changed, f"{len(files)} files, at most {options.max_files_changed}"))
        if options.protected_paths:
            touched = [path for _, path in files if is_protected(path, options.protected_paths)]
            detail = f"touched {', '.join(touched[:5])}" + (f" and {len(touched) - 5} more" if len(touched) > 5 else "") if touched else "none touched"
            checks.append(CheckResult("protected paths", not touched, detail))
        return checks

    async def _command(self, context: StepContext, command: GateCommand) -> CheckResult:
        argv = ["sh", "-c", command.run] if isinstance(command.run, str) else list(command.run)
        run = getattr(context.executor, "run", None)
        if run is None:
            return CheckResult(command.name, False, f"executor {context.executor.name} cannot run commands")
        started = time.monotonic()
        done = await run(context.session, argv, command.timeout_s, env=self.options.env, output_limit=self.options.output_tail_chars * 4)
        took = time.monotonic() - started
        output = (done.stdout + (f"\n{done.stderr}" if done.stderr else "")).strip()
        output = output[-self.options.output_tail_chars:]
        if done.timed_out:
            return CheckResult(command.name, False, f"timed out after {command.timeout_s:g}s", output)
        if done.returncode != 0:
            return CheckResult(command.name, False, f"exit {done.returncode} after {took:.1f}s", output)
        return CheckResult(command.name, True, f"{took:.1f}s")


def feedback_prompt(failed: list[CheckResult], round_number: int, max_rounds: int) -> str:
    """What the agent reads when the gate sends the session back: every failure with its output."""
    parts = [
        f"The completion gate failed after your work (round {round_number} of {max_rounds}). "
        "Fix what follows on the same branch, commit, and finish with a short summary.",
    ]
    for check in failed:
        parts.append(f"## {check.name}: {check.detail}")
        if check.output:
            parts.append(f"```\n{check.output}\n```")
    return "\n\n".join(parts)
