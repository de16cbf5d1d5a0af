"""Stacked dependants whose blockers' work conflicts: held before any session of theirs is recorded,
and let go once their blockers' branches merge cleanly.

The hold is an event (`BlockersConflicted`), so a restart finds it in the log. It is looked at again
when the stack changes (a blocker merged, or stacked elsewhere), when a branch it was judged on gets
a new commit, and every `RECHECK_S` in any case; never with a growing backoff, and nothing is
charged to the issue meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.workspace import branch_name
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.readiness import StackBase, stack_bases

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.adapters.workspace_stacking import BlockersCheck
    from waterspider_tui.core.placement import Placement
    from waterspider_tui.core.state import TaskRecord
    from waterspider_tui.engine.engine import Engine

log = logging.getLogger(__name__)

LOOK_EVERY_S = 2.0
"""How often held dependants' branch heads are read (a cheap `rev-parse` each)."""
RECHECK_S = 60.0
"""A held dependant's merges are tried again at least this often, whatever its heads say."""


class BlockerConflicts:
    """Checks a stacked dependant's blockers before its start, and watches the ones held."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.look_every_s = LOOK_EVERY_S
        self.recheck_s = RECHECK_S
        self.judged_at: dict[str, float] = {}
        """Issue key -> when its merges were last tried in this run (a restart tries them at once)."""

    async def held_before_start(self, key: str, placement: Placement) -> bool:
        """Whether the issue, about to start on `placement`, is held instead: its blockers' branches
        there conflict (the hold recorded now). An executor that cannot tell leaves it to `prepare`."""
        engine = self.engine
        task = engine.snapshot.tasks[key]
        if not task.deps:
            return False
        executor = engine.pool.executor_named(placement.executor)
        check = await self._check(task, executor, placement.host, self._stack(task, executor, placement.host))
        if check is None or check.conflict is None:
            return False
        engine.record(_held(task.key, check, executor.name, placement.host, engine.clock.now()))
        return True

    async def run(self, stopping: asyncio.Event) -> None:
        """Look at the held dependants every `look_every_s` until `stopping` is set."""
        while not stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.look_every_s)
            if stopping.is_set():
                return
            for task in [task for task in self.engine.snapshot.tasks.values() if task.blockers_conflict is not None]:
                try:
                    await self.look_again(task.key)
                except Exception:  # one issue's git trouble must not stop the others being looked at
                    log.exception("looking again at %s's blockers failed", task.key)

    async def look_again(self, key: str) -> None:
        """Release the hold, record a changed verdict, or leave it as it is."""
        engine = self.engine
        task = engine.snapshot.tasks.get(key)
        held = task.blockers_conflict if task is not None else None
        if task is None or held is None or task.state is not TaskState.QUEUED:
            return
        executor = next((executor for executor in engine.pool.executors if executor.name == held.executor), None)
        stack = self._stack(task, executor, held.host) if executor is not None else ()
        now = engine.clock.now()
        if executor is None or len(stack) < 2:
            engine.record(ev.BlockersConflicted(ts=now, issue=key, reason=""))  # a blocker merged (or went): nothing to merge now
            return
        same_stack = [name for name, _ in held.heads if name in _branches(stack)] == list(_branches(stack))
        due = now - self.judged_at.get(key, float("-inf")) >= self.recheck_s
        check = await self._check(task, executor, held.host, stack, unless_heads=held.heads if same_stack and not due else ())
        if check is None or not check.judged:
            return
        self.judged_at[key] = now
        if check.conflict is None:
            engine.record(ev.BlockersConflicted(ts=engine.clock.now(), issue=key, reason=""))
            return
        verdict = _held(key, check, held.executor, held.host, engine.clock.now())
        if (verdict.reason, verdict.issues, verdict.files, verdict.heads) != (held.reason, held.issues, held.files, held.heads):
            engine.record(verdict)

    def _stack(self, task: TaskRecord, executor: Executor, host: str) -> tuple[StackBase, ...]:
        bases = stack_bases(task, self.engine.snapshot, self.engine.policy.dependants_wait_for)
        return tuple(base for base in bases if stacks_from(executor, base, host))

    async def _check(
        self, task: TaskRecord, executor: object, host: str, stack: tuple[StackBase, ...], unless_heads: tuple[tuple[str, str], ...] = (),
    ) -> BlockersCheck | None:
        check = getattr(executor, "check_blockers", None)
        if len(stack) < 2 or check is None:
            return None
        branch = branch_name(task.issue.number, task.issue.repo, self.engine.multi_repo)
        merges = [(base.issue, base.branch) for base in stack[1:]]
        name = getattr(executor, "name", "")
        shipped = tuple(base.branch for base in stack if (base.executor, base.host) != (name, host))
        try:
            result: BlockersCheck = await check(branch, task.key, (stack[0].issue, stack[0].branch), merges, unless_heads, host=host, shipped=shipped)
        except ExecutorError as error:
            log.warning("could not check %s's blockers on %s: %s", task.key, host, error)
            return None
        return result


def stacks_from(executor: Executor, base: StackBase, host: str) -> bool:
    """Whether a session of `executor` on `host` can start from a blocker's branch: where the blocker
    ran, or where the executor brings the branch from (`stacks_from`: an SSH host fetches the
    orchestrator's own)."""
    can = getattr(executor, "stacks_from", None)
    return bool(can(base, host)) if can is not None else (base.executor, base.host) == (getattr(executor, "name", ""), host)


def _branches(stack: tuple[StackBase, ...]) -> tuple[str, ...]:
    return tuple(base.branch for base in stack)


def _held(key: str, check: BlockersCheck, executor: str, host: str, now: float) -> ev.BlockersConflicted:
    conflict = check.conflict
    assert conflict is not None
    return ev.BlockersConflicted(
        ts=now, issue=key, reason=str(conflict), issues=conflict.issues, files=conflict.files,
        executor=executor, host=host, heads=check.heads,
    )
