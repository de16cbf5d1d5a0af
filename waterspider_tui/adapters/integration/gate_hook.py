"""The gate on an integrated branch: the `[pipeline.gate]` commands, run in the integration worktree.

`IntegrationGate` is the hook: anything with `check(worktree, branch, base) -> GateVerdict`.
`PipelineGate` is the one wired by default. It reuses the completion gate of
`adapters/pipeline/gate.py` with only its commands (tests, linters): the per-issue rules
(a commit of its own, diff size, protected paths) were checked on each issue already, and a
failure is reported, never sent back to an agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

from waterspider_tui.adapters.executors.local_commands import run_command
from waterspider_tui.adapters.pipeline.base import StepContext
from waterspider_tui.adapters.pipeline.gate import Gate, GateOptions
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult, TaskState
from waterspider_tui.core.state import TaskRecord

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import CommandResult


@dataclass(frozen=True)
class GateVerdict:
    ok: bool
    summary: str
    output: str = ""
    """The failing commands' output (its tail)."""


class IntegrationGate(Protocol):
    async def check(self, worktree: Path, branch: str, base: str) -> GateVerdict: ...


class _Here:
    """The little of an executor the gate's commands need, on this machine."""

    name = "local"

    async def run(
        self, session: SessionInfo, argv: Sequence[str], timeout_s: float, *,
        env: Mapping[str, str] | None = None, output_limit: int = 64_000,
    ) -> CommandResult:
        return await run_command(session.worktree, argv, timeout_s, env=env, output_limit=output_limit)


class PipelineGate:
    """The completion gate's commands on the integration branch."""

    def __init__(self, options: Mapping[str, Any] | GateOptions | None = None) -> None:
        parsed = options if isinstance(options, GateOptions) else GateOptions.model_validate(dict(options or {}))
        self.options = parsed.model_copy(update={
            "require_commit": False, "max_diff_lines": None, "max_files_changed": None, "protected_paths": [], "max_rounds": 0,
        })
        self._gate = Gate(self.options)

    @property
    def enabled(self) -> bool:
        return self.options.enabled and bool(self.options.commands)

    async def check(self, worktree: Path, branch: str, base: str) -> GateVerdict:
        if not self.enabled:
            return GateVerdict(True, "no gate commands configured")
        session = SessionInfo(
            session_id=f"integration:{branch}", issue="integration#0", attempt=1, executor="local", host="local",
            worktree=str(worktree), branch=branch, log_path="", started_at=0.0,
        )
        task = TaskRecord(issue=Issue(repo="integration", number=0, title=branch), state=TaskState.RUNNING, deps=())
        context = StepContext(task=task, session=session, result=SessionResult(Outcome.SUCCEEDED), executor=_Here(), base=base)  # type: ignore[arg-type]
        outcome = await self._gate.run(context)
        return GateVerdict(outcome.ok, outcome.summary, str(outcome.facts.get("gate_output", "")))
