"""A step that failed just before the orchestrator stopped still fails the session after the restart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.pipeline.worktree_session import World
from waterspider_tui.adapters.pipeline.base import StepContext, StepOutcome
from waterspider_tui.adapters.pipeline.commits import CountCommits
from waterspider_tui.adapters.pipeline.gate import Gate, GateOptions
from waterspider_tui.core import events as ev
from waterspider_tui.core.clock import FakeClock
from waterspider_tui.core.models import ErrorClass, Outcome, SessionResult
from waterspider_tui.engine import open_store
from waterspider_tui.engine.after_agent import run_steps


class _Spy:
    name = "push"

    def __init__(self) -> None:
        self.ran = False

    def applies(self, result: SessionResult) -> bool:
        return True

    async def run(self, context: StepContext) -> StepOutcome:
        self.ran = True
        return StepOutcome(ok=True)


async def test_a_failed_gate_recorded_before_a_restart_is_not_passed_over(world: World, tmp_path: Path) -> None:
    world.commit()
    store = open_store(tmp_path / "state.db")
    clock = FakeClock()
    store.record((ev.IssueSeen(ts=clock.now(), issue_data=world.task.issue),
                  ev.SessionStarted(ts=clock.now(), issue=world.session.issue, session=world.session)))
    agent_result = SessionResult(outcome=Outcome.SUCCEEDED, turns=3)
    gate = Gate(GateOptions.model_validate({"commands": [{"name": "tests", "run": "exit 1"}], "max_rounds": 0}))
    first = await run_steps([CountCommits(), gate], store.snapshot.tasks[world.session.issue], world.session, agent_result, world.executor, store, clock)
    assert first.error_class is ErrorClass.GATE_FAILED  # ... and the orchestrator stops before recording the session's end

    task = store.snapshot.tasks[world.session.issue]
    assert task.session is not None and task.session.steps_done == ("commits", "gate")
    spy = _Spy()
    again = await run_steps([CountCommits(), gate, spy], task, replace(task.session, agent_ended=agent_result), agent_result, world.executor, store, clock)
    assert again.outcome is Outcome.FAILED and again.error_class is ErrorClass.GATE_FAILED and again.error.startswith("gate: gate failed")
    assert not spy.ran, "nothing after the failed step runs"
    assert again.commits == 1, "what the finished steps found is kept"
