"""Runs the steps after the agent, each recorded before and after it runs (write-ahead)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.adapters.pipeline.base import Step
    from waterspider_tui.core.clock import Clock
    from waterspider_tui.core.models import SessionInfo, SessionResult
    from waterspider_tui.core.state import TaskRecord
    from waterspider_tui.store.state_store import StateStore

log = logging.getLogger(__name__)

_RESULT_FACTS = ("commits", "files_changed")
"""Facts that are fields of SessionResult; the rest stay in the session's facts."""
FAILED_STEP_FACT = "failed_step"
FAILED_ERROR_FACT = "failed_error"
"""Recorded with a step that failed: its name, and `class: summary`. A restart between that
step and the session's end finishes the session as that failure (the step is done, so it is
not run again, and the steps after it must not run)."""
RETRY_PROMPT_FACT = "retry_prompt"
"""The fact a failed step's `retry_with_prompt` is recorded under, so the retry that sends the
session back to the agent reads it from the store (it survives a restart)."""


def follow_up_of(task: TaskRecord | None, session_id: str = "") -> str:
    """What a failed step of the issue's last session (or of `session_id`) sends back to the agent.

    The completion gate leaves its failure output there while it has rounds left: `finish`
    then retries at once, and the next session starts with it after its prompt.
    """
    last = task.session if task is not None else None
    if last is None or (session_id and last.session_id != session_id):
        return ""
    step_said = str(last.facts.get(RETRY_PROMPT_FACT, ""))
    if task is not None and task.rework_note and not session_id:  # a milestone conflict sent it back to work
        return "\n\n".join(part for part in (task.rework_note, step_said) if part)
    return step_said


def merge_facts(result: SessionResult, facts: dict[str, int | float | str]) -> SessionResult:
    known = {name: int(facts[name]) for name in _RESULT_FACTS if name in facts}
    return replace(result, **known) if known else result


async def run_steps(
    steps: list[Step], task: TaskRecord | None, session: SessionInfo, result: SessionResult,
    executor: Executor, store: StateStore, clock: Clock, *, unrecorded: list[ev.Event] | None = None,
) -> SessionResult:
    """The session's final result: the agent's, with what each step found, or a step's failure.

    A step already finished (before a restart) is skipped and its facts reused; one that was
    started but not finished runs again. `unrecorded` (the agent's exit) is stored in one
    transaction with the first step's start, and emptied then; left for the session's end when no
    step runs.
    """
    result = merge_facts(result, session.facts)
    if task is None:
        return result
    failed_step = session.facts.get(FAILED_STEP_FACT)
    if failed_step:
        error_class, _, summary = str(session.facts.get(FAILED_ERROR_FACT, "")).partition(": ")
        return _failed(result, str(failed_step), error_class, summary)
    for step in steps:
        if step.name in session.steps_done or not step.applies(result):
            continue
        store.record((*(unrecorded or ()), ev.StepStarted(ts=clock.now(), issue=session.issue, session_id=session.session_id, step=step.name)))
        if unrecorded:
            unrecorded.clear()
        context = StepContext(task=task, session=session, result=result, executor=executor, base=executor.base_branch(session))
        try:
            outcome = await _ran_where_the_session_ran(executor, session, step.name) or await step.run(context)
        except ExecutorError as error:
            outcome = StepOutcome(ok=False, summary=str(error), error_class=error.error_class)
        except Exception as error:  # a step's bug fails the session with its reason, never the engine
            log.exception("step %s failed for %s", step.name, session.issue)
            outcome = StepOutcome(ok=False, summary=f"{type(error).__name__}: {error}", error_class=ErrorClass.CRASHED.value)
        facts = dict(outcome.facts)
        if not outcome.ok:
            facts.update({FAILED_STEP_FACT: step.name, FAILED_ERROR_FACT: f"{outcome.error_class or 'crashed'}: {outcome.summary}"})
        if outcome.retry_with_prompt:
            facts[RETRY_PROMPT_FACT] = outcome.retry_with_prompt
        store.record((ev.StepFinished(
            ts=clock.now(), issue=session.issue, session_id=session.session_id, step=step.name, ok=outcome.ok,
            summary=outcome.summary, error_class=outcome.error_class, facts=facts,
        ),))
        result = merge_facts(result, facts)
        # Later steps see what earlier ones found (the pull request's body shows the gate's results).
        session = replace(session, facts={**session.facts, **facts})
        if not outcome.ok:
            return _failed(result, step.name, outcome.error_class, outcome.summary)
    return result


async def _ran_where_the_session_ran(executor: Executor, session: SessionInfo, step: str) -> StepOutcome | None:
    """The step's outcome where the executor ran it with the session (a CI runner checks and pushes
    its own worktree: `step_outcome`); None where the step runs from here."""
    ran_there = getattr(executor, "step_outcome", None)
    return await ran_there(session, step) if ran_there is not None else None


def _failed(result: SessionResult, step: str, error_class: str, summary: str) -> SessionResult:
    known = ErrorClass(error_class) if error_class in ErrorClass._value2member_map_ else ErrorClass.CRASHED
    return replace(result, outcome=Outcome.FAILED, error_class=known, error=f"{step}: {summary}")
