"""The engine: one asyncio loop that collects issues, plans, places sessions and runs the outboxes.

Everything it changes goes through the state store as an event; what runs where is the
sessions supervisor's and the executors' business, what is written outside is the sinks'.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractContextManager
import logging
from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.sinks.terminal_hold import TerminalHold
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.clock import Clock, SystemClock
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.placement import NoPlace
from waterspider_tui.core.scheduler import Plan, Planner, SchedulerConfig
from waterspider_tui.core.state import Snapshot
from waterspider_tui.engine import loops, worktree_access
from waterspider_tui.engine.api import ShellTarget
from waterspider_tui.engine.blocker_conflicts import BlockerConflicts
from waterspider_tui.engine.dispatch import Dispatcher
from waterspider_tui.engine.idle_end import IdleEnd
from waterspider_tui.engine.locks import RunLocks
from waterspider_tui.engine.policy import SessionPolicy
from waterspider_tui.engine.preflight import HOSTS_DOWN
from waterspider_tui.engine.session_logs import read_log, sessions_of
from waterspider_tui.engine.sessions import SessionSupervisor

NO_HOST_FITS = "no host fits: "
"""How a placement's refusal starts; said after 'waits for a host:' it repeats itself."""

if TYPE_CHECKING:
    from typing import Any

    from waterspider_tui.adapters.agents.base import Agent, LogEntry
    from waterspider_tui.adapters.executors.pool import ExecutorPool
    from waterspider_tui.adapters.pipeline.base import Step
    from waterspider_tui.adapters.sinks.base import Sink
    from waterspider_tui.adapters.sinks.outbox import Outbox
    from waterspider_tui.adapters.source_base import IssueSource
    from waterspider_tui.engine.api import LogListener, SnapshotListener
    from waterspider_tui.store.sink_cursors import SinkCursors
    from waterspider_tui.store.state_store import StateStore

log = logging.getLogger(__name__)

SINK_DRAIN_DEADLINE_S = 30.0
"""At exit the run waits this long for GitHub and other sinks to catch up; the next start does the rest."""


class Engine:
    """Owns the run: every change goes through the state store as an event."""

    def __init__(
        self,
        *,
        store: StateStore,
        sources: Sequence[tuple[IssueSource, float]],
        agent: Agent,
        pool: ExecutorPool,
        scheduler: SchedulerConfig,
        policy: SessionPolicy = SessionPolicy(),
        steps: Sequence[Step] = (),
        sinks: Sequence[Sink] = (),
        locks: RunLocks | None = None,
        clock: Clock | None = None,
        title: str = "waterspider",
        on_close: Sequence[Callable[[], Awaitable[None]]] = (),
        terminal_hold: TerminalHold | None = None,
    ) -> None:
        self.store = store
        self.sources = list(sources)
        self.agent = agent
        self.pool = pool
        self.scheduler = scheduler
        self.planner = Planner(scheduler)
        """One planner for the run: it keeps what earlier plans computed (plan runs on every wake)."""
        self.capacity = scheduler.capacity
        self.policy = policy
        self.sinks = list(sinks)
        self.clock = clock or SystemClock()
        self.title = title
        self.locks = locks or RunLocks([(store.log.path.with_suffix(".lock"), str(store.log.path))])
        self.terminal_hold = terminal_hold or TerminalHold()
        """Held while the front end lends the terminal; the terminal notifier writes only outside it."""
        self._on_close = list(on_close)
        """Closed after the sinks, e.g. the HTTP client they share with a source."""
        self.multi_repo = len({repo for source, _ in self.sources for repo in getattr(source, "repos", ())}) > 1
        self.sessions = SessionSupervisor(
            store=store, clock=self.clock, agent=agent, pool=pool, policy=policy, steps=list(steps),
            publish_log=self._publish_log, multi_repo=self.multi_repo,
        )
        self._snapshot_listeners: list[SnapshotListener] = []
        self._log_listeners: list[LogListener] = []
        self.wake = asyncio.Event()
        """Set whenever events are stored: the dispatcher and the outboxes look again."""
        self.refresh = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._leave_running = True
        self.polled: set[str] = set()
        self._plan_cache: tuple[int, int, Plan] | None = None
        self.outboxes: list[Outbox] = []
        self.sink_cursors: SinkCursors | None = None
        self.stop_waking_outboxes: Callable[[], None] | None = None
        self.confirm_after: dict[str, float] = {}
        """Issue key -> when to ask its source again after it could not answer the check before a start."""
        self._preflighted = asyncio.Event()
        """Set once the hosts were checked: nothing is dispatched before."""
        self.dispatcher = Dispatcher(self)
        self.idle_end = IdleEnd(self)
        self.blocker_conflicts = BlockerConflicts(self)
        """Holds a stacked dependant whose blockers conflict before it starts, and lets it go again."""
        self.store.subscribe(self._on_stored)

    # -- the front ends' view -------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self.store.snapshot

    @property
    def configured_hosts(self) -> dict[str, int]:
        return {host.name: host.slots for executor in self.pool.executors for host in executor.hosts}

    def hold_terminal_output(self) -> AbstractContextManager[None]:
        return self.terminal_hold.holding()

    def plan(self) -> Plan:
        now = self.clock.now()
        seq = self.store.snapshot.seq
        if self._plan_cache and self._plan_cache[0] == seq and self._plan_cache[1] == int(now):
            return self._plan_cache[2]
        current = self.planner.plan(self.store.snapshot, now)
        self._plan_cache = (seq, int(now), current)
        return current

    def waits_for_host(self, issue_key: str) -> str:
        """Why no host can take this queued issue now, as the dispatcher logs it ('' when one can):
        'waits for a host: mini-1 unreachable' (a host down, drained or full, its pin or needs), or
        'cannot run on any configured host: ...' when none ever could. The plan counts slots, not hosts."""
        task = self.snapshot.tasks.get(issue_key)
        if task is None or task.state is not TaskState.QUEUED:
            return ""
        never = self.pool.never_fits(self.snapshot, task, self.agent.name)
        if never:
            return f"cannot run on any configured host: {never.removeprefix(NO_HOST_FITS)}"
        placement = self.pool.place(self.snapshot, task, self.agent.name)
        return f"waits for a host: {placement.reason.removeprefix(NO_HOST_FITS)}" if isinstance(placement, NoPlace) else ""

    def remember_plan(self, current: Plan, now: float) -> None:
        """Keep the plan the dispatcher just made: the front ends' `plan()` reuses it until the next change."""
        self._plan_cache = (self.store.snapshot.seq, int(now), current)

    def subscribe(self, listener: SnapshotListener) -> Callable[[], None]:
        self._snapshot_listeners.append(listener)
        return lambda: self._snapshot_listeners.remove(listener)

    def subscribe_logs(self, listener: LogListener) -> Callable[[], None]:
        self._log_listeners.append(listener)
        return lambda: self._log_listeners.remove(listener)

    def session_log(self, issue_key: str) -> list[LogEntry]:
        return list(self.sessions.logs.get(issue_key, ()))

    async def load_session_log(self, issue_key: str, attempt: int | None = None, *, limit_bytes: int = 8 << 20) -> list[LogEntry]:
        """The readable log of any session of an issue, ended or running (the last one by default),
        read through the executor it ran on: after a restart, a failed issue's log is still there."""
        task = self.snapshot.tasks.get(issue_key)
        if task is None:
            return []
        live = self.sessions.logs.get(issue_key)
        current = task.session
        if live is not None and current is not None and (attempt is None or attempt == current.attempt):
            return list(live)
        session = sessions_of(task).get(attempt if attempt is not None else max(sessions_of(task), default=0))
        if session is None:
            return []
        return await read_log(self.pool.executor_for(session), session, self.agent.parser(), limit_bytes)

    def shell_target(self, issue_key: str) -> ShellTarget:
        session = worktree_access.latest_session(self.snapshot.tasks.get(issue_key))
        executor = self.pool.executor_for(session) if session is not None else None
        host = worktree_access.executor_host(executor, session) if executor is not None and session is not None else None
        return worktree_access.shell_target(
            session, on_this_machine=isinstance(executor, LocalExecutor), host=host, label=self.display_key(issue_key),
        )

    async def load_diff(self, issue_key: str) -> str:
        session = worktree_access.latest_session(self.snapshot.tasks.get(issue_key))
        if session is None:
            raise RuntimeError(f"{self.display_key(issue_key)} has not run yet: it has no branch.")
        return await worktree_access.branch_diff(self.pool.executor_for(session), session)

    async def load_results(self) -> dict[str, Any]:
        # Off the loop: the whole log is read and folded, which takes most of a second for thousands of sessions.
        return await asyncio.to_thread(worktree_access.stored_results_figures, self.store.log.path)

    def display_key(self, key: str) -> str:
        return key if self.multi_repo else cmd.short_key(key)

    # -- recording ------------------------------------------------------------------------
    def record(self, *events: ev.Event) -> list[ev.Event]:
        return self.store.record(events)

    def record_transient(self, *events: ev.Event) -> list[ev.Event]:
        return self.store.record(events, durable=False)

    def _on_stored(self, snapshot: Snapshot, events: list[ev.Event]) -> None:
        self.wake.set()
        for listener in list(self._snapshot_listeners):
            try:
                listener(snapshot)
            except Exception:  # a broken view must not stop the engine
                log.exception("snapshot listener failed")

    def _publish_log(self, key: str, entries: list[LogEntry]) -> None:
        for listener in list(self._log_listeners):
            try:
                listener(key, entries)
            except Exception:
                log.exception("log listener failed")

    # -- commands -------------------------------------------------------------------------
    async def submit(self, command: cmd.Command) -> str:
        """Carry out an operator command by the core's rules; ValueError when it does not apply."""
        events, message = cmd.apply_command(self.snapshot, command, self.clock.now(), display_key=self.display_key, hosts=self.pool.host_names)
        if isinstance(command, cmd.Refresh):
            self.refresh.set()
        if events:
            self.record(*events)
        if isinstance(command, cmd.Cancel):
            cancelled = events[0]
            assert isinstance(cancelled, ev.CancelRequested)
            self.sessions.cancel_reasons[cancelled.issue] = f"cancelled by {command.by}"
        return message

    # -- running --------------------------------------------------------------------------
    async def run(self, *, until_idle: bool = False) -> None:
        """Run until stopped (or, with until_idle, until nothing is left to do)."""
        self.locks.acquire()
        self._running = True
        self._stopped.clear()
        workers: list[asyncio.Task[None]] = []
        sink_workers: list[asyncio.Task[None]] = []
        try:
            sink_workers = loops.start_outboxes(self)
            await self.sessions.reconcile()
            workers.append(asyncio.create_task(loops.preflight(self, checked=self._preflighted)))
            workers += [asyncio.create_task(loops.collect(self, source, interval)) for source, interval in self.sources]
            workers.append(asyncio.create_task(self._dispatch_loop()))
            workers.append(asyncio.create_task(loops.probe(self)))
            workers.append(asyncio.create_task(self.blocker_conflicts.run(self._stopping)))
            workers.append(asyncio.create_task(loops.serve_command_requests(self)))
            while not self._stopping.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=0.2)
                if until_idle and self.is_idle():
                    break
            self._stopping.set()
            await self.sessions.shutdown(leave_running=self._leave_running)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await loops.drain_outboxes(self, sink_workers, SINK_DRAIN_DEADLINE_S)
            await self._close_parts()
            self.locks.release()
            self._running = False
            self._stopped.set()

    async def _close_parts(self) -> None:
        for source, _ in self.sources:
            with contextlib.suppress(Exception):
                await source.close()
        for sink in self.sinks:
            with contextlib.suppress(Exception):
                await sink.close()
        for close in self._on_close:
            with contextlib.suppress(Exception):
                await close()
        await self.pool.close()

    async def stop(self, *, leave_running: bool = True) -> None:
        """Ask the run to end and wait until it has: sessions detached, or stopped and requeued."""
        self._leave_running = leave_running
        self._stopping.set()
        if self._running:
            await self._stopped.wait()

    def is_idle(self) -> bool:
        """Nothing runs, nothing can start, nothing waits for a retry or a reset."""
        if not self.idle_end.sources_known() or self.sessions.tasks:
            return False
        if any(outbox.keeps_run_busy() for outbox in self.outboxes):
            return False  # a milestone being integrated: announced before the end, and it may send an issue back
        snapshot = self.snapshot
        if snapshot.running():
            return False
        current = self.plan()
        # A ready issue no configured host could ever take (pinned to an unknown host, labels no host
        # has) was said once as a configuration error; it does not keep the run going.
        waiting = self.idle_end.runnable(snapshot, current) or any(item.reason == "retry_wait" for item in current.blocked)
        if snapshot.dispatcher_paused:
            if snapshot.paused_by == HOSTS_DOWN and waiting:
                return self.idle_end.hosts_given_up()
            return not snapshot.paused_until
        return not waiting

    async def _dispatch_loop(self) -> None:
        await self._preflighted.wait()
        await self.dispatcher.run(self._stopping)
