"""How a session's run is going and how it ended: its state, the wait for it to complete (a run
queued past its deadline cancelled as host_down), and each step after the agent as the runner's
record of it says."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.actions_cancel import CANCELLED_ON_GITHUB
from waterspider_tui.adapters.executors.actions_runs import HOST_DOWN, exit_of
from waterspider_tui.adapters.executors.actions_stream import RECORD_FILE, final_steps, round_results, step_failure
from waterspider_tui.adapters.executors.base import ExecutorError, ExitStatus, SessionState
from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.pipeline.base import StepOutcome

if TYPE_CHECKING:
    from typing import Any, Mapping

    from waterspider_tui.adapters.executors.actions import ActionsExecutor
    from waterspider_tui.core.models import SessionInfo

log = logging.getLogger(__name__)


class RunResults:
    """The executor's state, wait and step outcomes (mixed into ActionsExecutor)."""

    async def state(self: ActionsExecutor, session: SessionInfo) -> SessionState:
        try:
            run = await self._run(session)
        except GitHubError as error:
            raise ExecutorError(f"{self.repo}: cannot read the run of {session.session_id}: {error}", error_class=HOST_DOWN) from error
        if run is None:
            return SessionState(alive=False, spawned=False)
        if run.get("status") == "completed":
            status = exit_of(run, self._clock())
            if run.get("conclusion") == "cancelled":
                try:
                    superseded, why = await self._who_cancelled(session, run)
                    by_hand = not superseded and not self._tracked[session.session_id].cancel_reason
                    status = replace(status, error=why, cancelled=CANCELLED_ON_GITHUB if by_hand else "")
                except GitHubError as error:
                    log.debug("%s: who cancelled run %s not found out: %s", self.repo, run.get("id"), error)
            return SessionState(alive=False, exit=status)
        return SessionState(alive=True)

    async def wait(self: ActionsExecutor, session: SessionInfo) -> ExitStatus:
        """Poll the run until it completed; a run queued past `queued_deadline_s` is cancelled (host_down)."""
        while True:
            try:
                run = await self._run(session)
            except (GitHubUnavailable, RateLimited) as error:  # GitHub away for a while: the run goes on
                log.warning("%s: run of %s not read, asking again: %s", self.repo, session.session_id, error)
                until = getattr(error, "until", None)
                await self._sleep(max(self.poll_interval_s, (until or 0.0) - self._clock()))
                continue
            except GitHubError as error:
                raise ExecutorError(f"{self.repo}: the run of {session.session_id} cannot be read: {error}", error_class="crashed") from error
            if run is None:
                raise ExecutorError(f"{self.repo}: no run found for session {session.session_id}", error_class="crashed")
            tracked = self._tracked[session.session_id]
            if run.get("status") == "completed":
                status = await self._exit_with_steps(session, run)
                if run.get("conclusion") == "cancelled" and not tracked.cancel_reason:
                    # Superseded raises (placed again); otherwise someone cancelled it on GitHub.
                    await self._cancelled_elsewhere(session, run)
                    return replace(status, error_class="", cancelled=CANCELLED_ON_GITHUB)
                return status
            queued_for = self._clock() - tracked.dispatched_at
            if run.get("status") in ("queued", "waiting", "pending", "requested") and queued_for >= self.queued_deadline_s:
                await self._cancel(session, tracked.run_id, f"still {run.get('status')} after {queued_for:.0f}s: no runner took it")
                raise ExecutorError(
                    f"{self.repo}: run {tracked.run_id} stayed queued for {queued_for:.0f}s: no runner labelled "
                    f"{', '.join(self.runner_labels)} took it; cancelled", error_class=HOST_DOWN,
                )
            await self._sleep(self.poll_interval_s)

    async def _exit_with_steps(self: ActionsExecutor, session: SessionInfo, run: Mapping[str, Any]) -> ExitStatus:
        """The run's exit; a step after the agent that failed on the runner (the gate, the push) fails
        the session with its class, whatever the agent's stream says. A failed step the orchestrator
        has too fails it there instead, as that step's own outcome (`step_outcome`), and the exit is
        the agent's (the run's conclusion is exec-issue's, which the step failed)."""
        status = exit_of(run, self._clock())
        try:
            _, record = await self._artifact(self._tracked[session.session_id], int(run["id"]))
        except GitHubError as error:
            log.warning("%s: the record of run %s not read: %s", self.repo, run.get("id"), error)
            return status
        earlier, last = round_results(record, session.session_id, session.attempt)
        if earlier and last is not None:  # the gate's rounds on the runner: the stream holds them all
            status = replace(status, earlier_rounds=earlier, last_round_cost_usd=float(last.get("cost_usd") or 0.0),
                             last_round_turns=int(last.get("turns") or 0))
        error_class, error = step_failure(record, except_steps=self.replayed_steps)
        if error_class:
            return replace(status, error=error, error_class=error_class)
        agent_exit = record.get("agent_exit_code") if record else None
        if record and record.get("failed_step") in self.replayed_steps and isinstance(agent_exit, int):
            return replace(status, returncode=agent_exit)
        return status

    async def step_outcome(self: ActionsExecutor, session: SessionInfo, step: str) -> StepOutcome | None:
        """How `step` went on the runner in the session's last round, for the orchestrator's step of
        that name to record as its own; None when it did not run there (the step runs here)."""
        if step not in self.replayed_steps:
            return None
        try:
            run_id = await self._run_id(session)
            if run_id is None:
                return None
            _, record = await self._artifact(self._tracked[session.session_id], run_id)
        except GitHubError as error:
            raise ExecutorError(f"{self.repo}: the runner's record of {step} (run of {session.session_id}) cannot be read: {error}", error_class=HOST_DOWN) from error
        if record is None:
            if step != "gate":
                return None  # counted or checked from here through the API, as before records were kept
            return StepOutcome(ok=False, summary=f"gate ran on the runner, and the run left no {RECORD_FILE} saying how it went",
                               error_class="gate_failed")
        ran = final_steps(record).get(step)
        if ran is None:
            return None
        facts = {name: value for name, value in dict(ran.get("facts") or {}).items() if isinstance(value, (int, float, str))}
        rounds = int(record.get("rounds") or 1)
        if step == "gate" and rounds > 1:
            facts["gate_rounds_on_runner"] = rounds
        return StepOutcome(ok=bool(ran.get("ok")), summary=str(ran.get("summary") or ""), error_class=str(ran.get("error_class") or ""), facts=facts)
