"""The sessions supervisor: start a session on its executor, watch it, end it, find it after a restart."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Coroutine, TypeVar

from waterspider_tui.adapters.agents.base import LaunchError, SessionContext
from waterspider_tui.adapters.executors.base import ExecutorError, WorkOrder
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, Outcome, SessionInfo, SessionResult, TaskState
from waterspider_tui.core.readiness import StackBase, short_key, stack_bases
from waterspider_tui.engine.after_agent import follow_up_of, run_steps
from waterspider_tui.engine.blocker_conflicts import stacks_from
from waterspider_tui.engine.session_end import SHUTDOWN_REASON, budget_pause, end_events
from waterspider_tui.engine.orphans import OrphanSettler, waiting_for_host
from waterspider_tui.engine.output_reader import OutputReader
from waterspider_tui.engine.spawn_spans import SpawnSpans
from waterspider_tui.store.event_log import DuplicateSession

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import Agent, LogEntry
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.adapters.executors.pool import ExecutorPool
    from waterspider_tui.adapters.pipeline.base import Step
    from waterspider_tui.core.clock import Clock
    from waterspider_tui.core.placement import Placement
    from waterspider_tui.core.state import Snapshot, TaskRecord
    from waterspider_tui.engine.policy import SessionPolicy
    from waterspider_tui.store.state_store import StateStore

log = logging.getLogger(__name__)

T = TypeVar("T")

TAIL_INTERVAL_S = 0.2
PROGRESS_INTERVAL_S = 1.0
SPAWN_SETTLE_S = 10.0
"""How long a stop waits for agents being started to be up (a spawn takes milliseconds)."""
EXIT_SETTLE_S = 5.0
"""Longer than the runner takes to end an exited agent's leftovers (runner.LEFTOVER_GRACE_S and its kill wait)."""


class SessionSupervisor:
    """Owns the live sessions of one run: one asyncio task each, from launch to SessionFinished."""

    def __init__(
        self, *, store: StateStore, clock: Clock, agent: Agent, pool: ExecutorPool, policy: SessionPolicy,
        steps: list[Step], publish_log: Callable[[str, list[LogEntry]], None], multi_repo: bool,
    ) -> None:
        self.store = store
        self.clock = clock
        self.agent = agent
        self.pool = pool
        self.policy = policy
        self.steps = steps
        self.publish_log = publish_log
        self.multi_repo = multi_repo
        self.tasks: dict[str, asyncio.Task[None]] = {}
        """Issue key -> the task watching its session."""
        self.cancel_reasons: dict[str, str] = {}
        self.logs: dict[str, deque[LogEntry]] = {}
        self.spans = SpawnSpans()
        """How long each part of each start took (read by the dispatch benchmark)."""
        for executor in pool.executors:
            if hasattr(executor, "span_sink"):
                executor.span_sink = self.spans.add
        self.orphans = OrphanSettler(store=store, clock=clock, grace_s=policy.grace_s)
        """Sessions given up on with their host, settled when it answers again."""
        self.spawning: set[str] = set()
        """Issue keys whose agent is being started now: a stop waits for that to settle."""

    @property
    def snapshot(self) -> Snapshot:
        return self.store.snapshot

    def record(self, *events: ev.Event) -> list[ev.Event]:
        return self.store.record(events)

    # -- start ----------------------------------------------------------------------------
    def launch(self, key: str, placement: Placement, *, attempt: int | None = None, session_id: str = "") -> bool:
        """Record the session (the store refuses a second live one) and start watching it.

        `attempt` and `session_id` are given where another orchestrator decided them (a CI run's
        `waterspider exec-issue`); otherwise they follow from the issue's history.
        """
        task = self.snapshot.tasks[key]
        executor = self.pool.executor_named(placement.executor)
        order = WorkOrder(
            issue_key=key, number=task.issue.number, repo=task.issue.repo, attempt=attempt or task.attempts + 1,
            token=uuid.uuid4().hex[:8], multi_repo=self.multi_repo,
        )
        paths = executor.locate(order, placement.host)
        session = SessionInfo(
            session_id=session_id or f"{task.issue.number}-{order.attempt}-{order.token}", issue=key, attempt=order.attempt,
            executor=executor.name, host=placement.host, worktree=paths.worktree, branch=paths.branch,
            log_path=f"{paths.session_dir}/stdout.jsonl", session_dir=paths.session_dir, started_at=self.clock.now(),
            agent=self.agent.name, agent_session_id="" if placement.fresh_reason else task.resume_agent_session, placement=placement.reason,
        )
        # A blocker's branch is where its session ran: only those here are stacked on.
        bases = stack_bases(task, self.snapshot, self.policy.dependants_wait_for)
        stacked = [base for base in bases if stacks_from(executor, base, placement.host)]
        self._say_left_out(task, [base for base in bases if base not in stacked], placement.host)
        if stacked:
            merged_in = tuple((base.issue, base.branch) for base in stacked[1:])
            shipped = tuple(base.branch for base in stacked if (base.executor, base.host) != (executor.name, placement.host))
            session = replace(session, base_branch=stacked[0].branch, stacked_on=stacked[0].issue, merged_in=merged_in, shipped_branches=shipped)
        try:
            self.spans.timed(session.session_id, "session_started", self.record, ev.SessionStarted(ts=self.clock.now(), issue=key, session=session))
        except DuplicateSession as error:
            log.error("refused to start %s twice: %s", key, error)
            return False
        if placement.fresh_reason:
            self.record(ev.Warned(ts=self.clock.now(), issue=key, message=(
                f"{short_key(key, task.issue.repo)} starts afresh on {placement.host}, not resuming its agent's session: {placement.fresh_reason}"
            )))
        self.tasks[key] = asyncio.create_task(self._guarded(key, session, self._run(task, session, executor)))
        return True

    def _say_left_out(self, task: TaskRecord, elsewhere: list[StackBase], host: str) -> None:
        """A dependant starting without an unmerged blocker's work (its branch is on another host) is told, once."""
        if not elsewhere:
            return
        repo = task.issue.repo
        names = ", ".join(f"{short_key(base.issue, repo)} (on {base.host or base.executor})" for base in elsewhere)
        message = f"{short_key(task.key, repo)} starts on {host} without the work of {names}: stacking needs the branches on the same host; it has that work once merged"
        if message not in self.snapshot.warnings:
            self.record(ev.Warned(ts=self.clock.now(), message=message, issue=task.key))

    async def _guarded(self, key: str, session: SessionInfo, work: object) -> None:
        try:
            await work  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("session %s failed in the orchestrator", session.session_id)
            self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.CRASHED, error=f"orchestrator: {type(error).__name__}: {error}"))
        finally:
            self.tasks.pop(key, None)

    async def _run(self, task: TaskRecord, session: SessionInfo, executor: Executor) -> None:
        key = task.key
        try:
            workspace = await self._within_limit("preparing its worktree", executor.prepare(session))
        except StartHung as hung:
            self._give_up(key, session, hung)
            return
        except ExecutorError as error:
            self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=_error_class(error.error_class), error=str(error)))
            return
        context = SessionContext(
            issue_key=key, number=task.issue.number, repo=task.issue.repo, title=task.issue.title,
            body=task.issue.body, labels=task.issue.labels, branch=workspace.branch, worktree=workspace.path,
            session_dir=session.folder, attempt=session.attempt, resume_agent_session=session.agent_session_id,
            seed=self.policy.seed, follow_up=follow_up_of(task),
        )
        try:
            # Off the loop: a launch may write the issue body, slow on a disk busy with starting sessions.
            spec = await self._within_limit("the agent's launch", asyncio.to_thread(self.spans.timed, session.session_id, "launch", self.agent.launch, context))
        except StartHung as hung:
            self._give_up(key, session, hung)
            return
        except LaunchError as error:
            self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=error.error_class, error=str(error)))
            return
        except (FileNotFoundError, LookupError) as error:
            self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.AGENT_NOT_FOUND, error=str(error)))
            return
        self.spawning.add(key)
        try:
            pid = await self._within_limit("starting its process", executor.start(session, spec), late=lambda _pid: self._stop_late(executor, session))
        except StartHung as hung:
            self._give_up(key, session, hung)
            return
        except ExecutorError as error:
            self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=_error_class(error.error_class), error=str(error)))
            return
        except OSError as error:
            # Nothing ran, so there is no stderr to read: the message is all there is.
            error_class = ErrorClass.AGENT_NOT_FOUND if isinstance(error, FileNotFoundError) else ErrorClass.CRASHED
            self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=error_class, error=f"the session could not be started: {error}"))
            return
        finally:
            self.spawning.discard(key)
        if spec.agent_session_id and spec.agent_session_id != session.agent_session_id:
            session = replace(session, agent_session_id=spec.agent_session_id)
        external_id, external_url = _external_reference(executor, session)
        spawned = ev.SessionSpawned(
            ts=self.clock.now(), issue=key, session_id=session.session_id, pid=pid, agent_session_id=spec.agent_session_id,
            external_id=external_id, external_url=external_url,
        )
        self.spans.timed(session.session_id, "session_spawned", self.record, spawned)
        await self._watch(key, replace(session, spawned=True), executor)

    async def _within_limit(self, step: str, work: Coroutine[Any, Any, T], *, late: Callable[[T], Awaitable[None]] | None = None) -> T:
        """`work`, or StartHung once it has taken `start_timeout_s`.

        Why: a start step that never returns (a git that hangs, a thread that never gets its answer)
        left the issue "starting" for good, with nothing to say so. What finishes after the give-up
        is dropped, but a process started that late is stopped (`late`): nobody watches it.
        """
        limit = self.policy.start_timeout_s
        running = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({running}, timeout=limit)
        except asyncio.CancelledError:
            running.cancel()
            raise
        if not done:
            running.add_done_callback(functools.partial(_after_give_up, late))
            raise StartHung(step, limit)
        return running.result()

    def _give_up(self, key: str, session: SessionInfo, hung: StartHung) -> None:
        log.error("session %s: %s", session.session_id, hung)
        # Unspawned, so not charged to the issue (end_events): it is tried again after the backoff.
        self.finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.CRASHED, error=str(hung)))

    async def _stop_late(self, executor: Executor, session: SessionInfo) -> None:
        log.warning("session %s started after it was given up on: stopping it", session.session_id)
        await executor.stop(session, self.policy.grace_s)

    # -- watch ----------------------------------------------------------------------------
    async def _watch(self, key: str, session: SessionInfo, executor: Executor) -> None:
        """Read the session's output until it exits, enforcing stall, time, cost and cancel limits."""
        reader = OutputReader(self.agent.parser())
        self.logs[key] = reader.log
        waiter = asyncio.create_task(executor.wait(session))
        started = self.clock.now()
        last_output = started
        last_progress_at = 0.0
        last_progress = None
        stop_reason: str | None = None
        stalled = timed_out = False
        quiet_allowed_until = started
        """Silence before this is no stall: the executor said its output was not live then (a CI run still queued)."""
        try:
            while not waiter.done():
                await asyncio.wait({waiter}, timeout=TAIL_INTERVAL_S)
                entries = await self._read(executor, session, reader)
                now = self.clock.now()
                if entries:
                    last_output = now
                    self.publish_log(key, entries)
                progress = reader.parser.progress()
                if progress != last_progress and now - last_progress_at >= PROGRESS_INTERVAL_S:
                    event = ev.SessionProgressed(ts=now, issue=key, session_id=session.session_id, progress=replace(progress, last_output_at=last_output))
                    new_phase = last_progress is None or (progress.phase, progress.phases_done) != (last_progress.phase, last_progress.phases_done)
                    self.store.record((event,), durable=new_phase)
                    last_progress, last_progress_at = progress, now
                if not _output_is_live(executor, session):
                    quiet_allowed_until = now
                if stop_reason is None:
                    stop_reason, stalled, timed_out = self._limit_reached(key, progress.cost_usd, now, started, max(last_output, quiet_allowed_until))
                    if stop_reason is not None and (stalled or timed_out):
                        # The agent may be done already: its runner ends what the agent left
                        # running, in silence, before it reports the exit. Silence then is no stall.
                        await asyncio.wait({waiter}, timeout=EXIT_SETTLE_S)
                        if waiter.done():
                            stop_reason, stalled, timed_out = None, False, False
                            break
                    if stop_reason is not None:
                        asyncio.create_task(executor.stop(session, self.policy.grace_s))
            try:
                status = waiter.result()
            except ExecutorError as error:
                # The host went away for good (`host_down`): the issue is placed again, not charged.
                # What was seen of it still counts: how long it ran until given up on, its cost and turns so far.
                seen = reader.parser.progress()
                ran_s = max(0.0, self.clock.now() - (session.started_at or started))
                self.finish(key, session, SessionResult(
                    outcome=Outcome.FAILED, error_class=_error_class(error.error_class), error=str(error),
                    duration_s=ran_s, cost_usd=seen.cost_usd, turns=seen.turns,
                ))
                if error.error_class == ErrorClass.HOST_DOWN.value:
                    self.orphans.watch(key, session, executor)
                return
        finally:
            if not waiter.done():
                waiter.cancel()
        entries = await self._read(executor, session, reader, final=True)
        if entries:
            self.publish_log(key, entries)
        result = reader.parser.finish(status.returncode, stalled=stalled, timed_out=timed_out)
        if status.error and not result.error:
            result = replace(result, error=status.error)
        if status.earlier_rounds:
            # Rounds a gate sent back to the agent where it ran: attempts of their own; this result is the last round's.
            result = replace(
                result, earlier_rounds=status.earlier_rounds, cost_usd=status.last_round_cost_usd or 0.0, turns=status.last_round_turns or 0,
                cost_counts_resumed=False,  # each round's own cost where it ran
            )
        if status.error_class and result.outcome is Outcome.SUCCEEDED:
            # The work after the agent failed where the session ran (a step on a CI runner).
            result = replace(result, outcome=Outcome.FAILED, error_class=_error_class(status.error_class), error=status.error)
        streamed_id = getattr(reader.parser, "session_id", "") or ""
        if streamed_id and not session.agent_session_id:
            session = replace(session, agent_session_id=streamed_id)
        if status.cancelled and not stop_reason:
            stop_reason = status.cancelled  # stopped where it ran (a run cancelled on GitHub): ends as a cancel from here does
        if stop_reason and not stalled and not timed_out:
            if stop_reason.startswith("budget"):
                result = replace(result, outcome=Outcome.FAILED, error_class=ErrorClass.BUDGET, error=stop_reason)
            else:
                result = replace(result, outcome=Outcome.CANCELLED, error_class=None, error=stop_reason)
        result = replace(result, duration_s=result.duration_s or max(0.0, status.ended - started), exit_code=status.returncode)
        await self.after_agent(key, session, result)

    @staticmethod
    async def _read(executor: Executor, session: SessionInfo, reader: OutputReader, *, final: bool = False) -> list[LogEntry]:
        entries: list[LogEntry] = []
        while True:
            chunk = await executor.read_output(session, reader.offset)
            entries += reader.feed(chunk)
            if not final or not chunk:
                break
        if final:
            entries += reader.finish()
        return entries

    def _limit_reached(self, key: str, cost: float, now: float, started: float, last_output: float) -> tuple[str | None, bool, bool]:
        reason = self.cancel_reasons.pop(key, None)
        if reason:
            return reason, False, False
        policy = self.policy
        if now - last_output > policy.stall_timeout_s:
            return f"no output for {now - last_output:.0f}s", True, False
        if now - started > policy.timeout_s:
            return f"ran longer than {policy.timeout_s:.0f}s", False, True
        if policy.per_issue_budget_usd and cost >= policy.per_issue_budget_usd:
            return f"budget: ${cost:.2f} reached the per-issue cap ${policy.per_issue_budget_usd:.2f}", False, False
        return None, False, False

    # -- end ------------------------------------------------------------------------------
    async def after_agent(self, key: str, session: SessionInfo, result: SessionResult) -> None:
        """Record the agent's result (write-ahead), run the steps after it, then finish.

        The result is stored in one transaction with the first step's start (or with the end, when
        no step applies): each transaction wakes the dispatcher, and the slot stays taken until the end.
        """
        exited: list[ev.Event] = [] if session.agent_ended is not None else [ev.AgentExited(ts=self.clock.now(), issue=key, session_id=session.session_id, result=result)]
        task = self.snapshot.tasks.get(key)
        current = task.session if task is not None and task.session is not None else session
        executor = self.pool.executor_for(current)
        final = await run_steps(self.steps, task, replace(current, agent_ended=result), result, executor, self.store, self.clock, unrecorded=exited)
        self.finish(key, current, final, unrecorded=exited)

    def finish(self, key: str, session: SessionInfo, result: SessionResult, *, unrecorded: list[ev.Event] | None = None) -> None:
        """Record the session's end (after `unrecorded`: events still to store first, in the same transaction)."""
        now = self.clock.now()
        self.record(*(unrecorded or ()), *end_events(self.snapshot, key, session, result, self.policy, now))
        pause = budget_pause(self.snapshot, self.policy, now)
        if pause is not None:
            self.record(pause)

    # -- restart --------------------------------------------------------------------------
    async def reconcile(self) -> None:
        """Match what the log says is running with each executor: reattach, collect, or requeue."""
        self.orphans.resume(self.snapshot, self.pool)
        for task in self.snapshot.running():
            session = task.session
            if session is None:
                continue
            executor = self.pool.executor_for(session)
            if session.agent_ended is not None:
                self.tasks[task.key] = asyncio.create_task(self._guarded(task.key, session, self.after_agent(task.key, session, session.agent_ended)))
                continue
            try:
                state = await executor.state(session)
            except ExecutorError as error:
                if error.error_class == ErrorClass.HOST_DOWN.value:
                    # Unknown, not gone: the session may run on. Its host is waited for as a running
                    # orchestrator waits (up to its lost_after_s), so the issue never runs twice at once.
                    self.record(ev.Warned(ts=self.clock.now(), issue=task.key, message=waiting_for_host(short_key(task.key, task.issue.repo), session, error)))
                    self.tasks[task.key] = asyncio.create_task(self._guarded(task.key, session, self._watch(task.key, session, executor)))
                    continue
                log.warning("cannot reach %s for %s: %s", session.host, task.key, error)
                state = None
            if state is not None and (state.alive or state.exit is not None):
                external_id, external_url = _external_reference(executor, session)
                if state.alive or (external_id and not session.external_id):
                    # A run found again by its name is recorded by its id, so the next restart asks for it directly.
                    self.record(ev.SessionSpawned(
                        ts=self.clock.now(), issue=task.key, session_id=session.session_id, pid=session.pid, reattached=True,
                        external_id=external_id, external_url=external_url,
                    ))
                self.tasks[task.key] = asyncio.create_task(self._guarded(task.key, session, self._watch(task.key, replace(session, spawned=True), executor)))
                continue
            spawned = state.spawned if state is not None else session.spawned
            if spawned:
                result = SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.CRASHED, error="the session's process was gone after a restart")
            else:
                result = never_started()
            self.finish(task.key, replace(session, spawned=spawned), result)

    def stop_closed(self, key: str, reason: str) -> None:
        """A session whose issue was closed (or unlabeled) is stopped, when the policy says so."""
        if self.policy.on_issue_gone == "stop" and key in self.tasks:
            self.cancel_reasons[key] = reason

    async def shutdown(self, *, leave_running: bool) -> None:
        await self.orphans.close()
        running = list(self.tasks.items())
        now = self.clock.now()
        if leave_running:
            # An agent being started is let start (a process half begun cannot be told apart from a
            # lost one); one not started yet is not started at all, and starts again next time.
            settle_by = asyncio.get_running_loop().time() + SPAWN_SETTLE_S
            while self.spawning and asyncio.get_running_loop().time() < settle_by:
                await asyncio.sleep(0.01)
            # Still being started now (an Actions run dispatched, its id not found yet): it exists, so it is
            # left to be found again, not started a second time. Taken before the cancel, which ends the spawn.
            still_spawning = set(self.spawning)
            for _, task in running:
                task.cancel()
            await asyncio.gather(*(task for _, task in running), return_exceptions=True)
            for key, _ in running:
                record = self.snapshot.tasks.get(key)
                if record is None or record.session is None or record.state is not TaskState.RUNNING:
                    continue
                if record.session.spawned or key in still_spawning:
                    self.record(ev.SessionDetached(ts=now, issue=key, session_id=record.session.session_id))
                else:
                    self.finish(key, record.session, never_started())
            return
        for key, _ in running:
            self.cancel_reasons[key] = SHUTDOWN_REASON
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)


class StartHung(Exception):
    """A step of a session's start that did not return within its limit: the agent never ran."""

    def __init__(self, step: str, seconds: float) -> None:
        super().__init__(f"start hung in {step} for {seconds:.0f}s: given up on, its agent never ran")
        self.step = step


def _after_give_up(late: Callable[[Any], Awaitable[None]] | None, running: asyncio.Future[Any]) -> None:
    """What a start step given up on returned at last: a started process is stopped, anything else dropped."""
    if running.cancelled() or running.exception() is not None or late is None:
        return
    stopping = asyncio.ensure_future(late(running.result()))
    _LATE_STOPS.add(stopping)  # the loop keeps only a weak reference to a task: this stop must not vanish midway
    stopping.add_done_callback(_late_stop_done)


_LATE_STOPS: set[asyncio.Future[None]] = set()


def _late_stop_done(done: asyncio.Future[None]) -> None:
    _LATE_STOPS.discard(done)
    if not done.cancelled() and done.exception() is not None:
        log.warning("stopping a session started after it was given up on failed: %s", done.exception())


def never_started() -> SessionResult:
    """The end of a session the orchestrator stopped before its agent started: started again at once, not charged."""
    return SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.LOST, error="the orchestrator stopped before the session's agent started")


def _external_reference(executor: Executor, session: SessionInfo) -> tuple[str, str]:
    """The id and web address of the job the session runs as, where an executor dispatches jobs
    elsewhere (`external_reference`: a GitHub Actions run); empty for a process of ours."""
    reference = getattr(executor, "external_reference", None)
    return reference(session) if reference is not None else ("", "")


def _output_is_live(executor: Executor, session: SessionInfo) -> bool:
    """Whether silence now may be judged a stall: an executor may answer per session (`output_live`),
    or for all its sessions (`live_output`: False where output arrives only at the end)."""
    per_session = getattr(executor, "output_live", None)
    if per_session is not None:
        return bool(per_session(session))
    return bool(getattr(executor, "live_output", True))


def _error_class(name: str) -> ErrorClass:
    """An executor's failure class by name; one this version does not know is a workspace problem."""
    return ErrorClass(name) if name in ErrorClass._value2member_map_ else ErrorClass.WORKSPACE
