"""The engine: one asyncio loop wiring sources, the scheduler, workspaces, agents and executors."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import uuid
from collections import deque
from dataclasses import replace
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable, Iterable, Sequence, TypeVar

from waterspider_tui.adapters.agents.base import Agent, LogEntry, SessionContext
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.source_base import IssueSource, PollResult, Reporter
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager, branch_name
from waterspider_tui.collector import poll_events
from waterspider_tui.core import commands as cmd
from waterspider_tui.core import events as ev
from waterspider_tui.core.clock import Clock, SystemClock
from waterspider_tui.core.models import ErrorClass, Outcome, SessionInfo, SessionResult, TaskState
from waterspider_tui.core.retry import decide_retry
from waterspider_tui.core.scheduler import Plan, SchedulerConfig, plan
from waterspider_tui.core.state import Snapshot, TaskRecord, utc_day
from waterspider_tui.engine_api import LogListener, SnapshotListener
from waterspider_tui.host_probe import probe_local
from waterspider_tui.session_watch import SessionWatch
from waterspider_tui.store.event_log import DuplicateSession, EventLog
from waterspider_tui.store.state_store import StateStore

log = logging.getLogger(__name__)
T = TypeVar("T")

TAIL_INTERVAL_S = 0.2
PROGRESS_INTERVAL_S = 1.0
HOST_PROBE_INTERVAL_S = 5.0


class EngineLocked(RuntimeError):
    """Another orchestrator already runs on this store."""


class Engine:
    """Owns the run: every change goes through the state store as an event."""

    def __init__(
        self,
        *,
        store: StateStore,
        sources: Sequence[tuple[IssueSource, float]],
        agent: Agent,
        workspace: WorkspaceManager,
        scheduler: SchedulerConfig,
        sessions_dir: Path,
        executor: LocalExecutor | None = None,
        reporters: Sequence[Reporter] = (),
        clock: Clock | None = None,
        title: str = "waterspider",
        stall_timeout_s: float = 600.0,
        timeout_s: float = 3 * 3600.0,
        grace_s: float = 10.0,
        max_attempts: int = 3,
        retry_backoff_s: float = 30.0,
        per_issue_budget_usd: float | None = None,
        daily_budget_usd: float | None = None,
        on_issue_gone: str = "finish",
        seed: int = 0,
        on_close: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.store = store
        self.sources = list(sources)
        self.agent = agent
        self.workspace = workspace
        self.scheduler = scheduler
        self.capacity = scheduler.capacity
        self.executor = executor or LocalExecutor(capacity=scheduler.capacity)
        self.reporters = list(reporters)
        self.clock = clock or SystemClock()
        self.title = title
        self.sessions_dir = sessions_dir
        self.stall_timeout_s = stall_timeout_s
        self.timeout_s = timeout_s
        self.grace_s = grace_s
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.per_issue_budget_usd = per_issue_budget_usd
        self.daily_budget_usd = daily_budget_usd
        self.on_issue_gone = on_issue_gone
        self.seed = seed
        self._on_close = list(on_close)
        """Closed after the reporters, e.g. the HTTP client they share with a source."""
        self.multi_repo = len({repo for source, _ in self.sources for repo in getattr(source, "repos", ())}) > 1
        self._snapshot_listeners: list[SnapshotListener] = []
        self._log_listeners: list[LogListener] = []
        self._logs: dict[str, deque[LogEntry]] = {}
        self._session_tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel_reasons: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._refresh = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._leave_running = True
        self._polled: set[str] = set()
        self._plan_cache: tuple[int, int, Plan] | None = None
        self._reporter_queues: list[asyncio.Queue[tuple[ev.Event, Snapshot] | None]] = []
        self._lock_file: int | None = None
        self._git_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="waterspider-git")
        """Git work after a session and pool refills, off the loop and off the default pool."""
        self._start_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="waterspider-start")
        """Starting a session (its worktree, its launch files) has threads of its own: with two
        hundred sessions finishing, their git calls held the shared pool for seconds while ready
        issues waited behind them for a worktree that was already there."""
        self._refilling: asyncio.Future[int] | None = None
        self.store.subscribe(self._on_stored)

    # -- the front ends' view -------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self.store.snapshot

    def plan(self) -> Plan:
        now = self.clock.now()
        seq = self.store.snapshot.seq
        if self._plan_cache and self._plan_cache[0] == seq and self._plan_cache[1] == int(now):
            return self._plan_cache[2]
        current = plan(self.store.snapshot, now, self.scheduler)
        self._plan_cache = (seq, int(now), current)
        return current

    def subscribe(self, listener: SnapshotListener) -> Callable[[], None]:
        self._snapshot_listeners.append(listener)
        return lambda: self._snapshot_listeners.remove(listener)

    def subscribe_logs(self, listener: LogListener) -> Callable[[], None]:
        self._log_listeners.append(listener)
        return lambda: self._log_listeners.remove(listener)

    def session_log(self, issue_key: str) -> list[LogEntry]:
        return list(self._logs.get(issue_key, ()))

    # -- recording ------------------------------------------------------------------------
    def record(self, *events: ev.Event) -> list[ev.Event]:
        return self.store.record(events)

    def record_transient(self, *events: ev.Event) -> list[ev.Event]:
        return self.store.record(events, durable=False)

    def _on_stored(self, snapshot: Snapshot, events: list[ev.Event]) -> None:
        self._wake.set()
        for queue in self._reporter_queues:
            for event in events:
                queue.put_nowait((event, snapshot))
        for listener in list(self._snapshot_listeners):
            try:
                listener(snapshot)
            except Exception:  # a broken view must not stop the engine
                log.exception("snapshot listener failed")

    # -- commands -------------------------------------------------------------------------
    async def submit(self, command: cmd.Command) -> str:
        now = self.clock.now()
        snapshot = self.snapshot
        by = command.by
        match command:
            case cmd.PauseDispatcher(reason=reason):
                if snapshot.dispatcher_paused:
                    raise ValueError("dispatch is already paused")
                self.record(ev.DispatcherPaused(ts=now, by=by, reason=reason))
                return "dispatch paused: running sessions go on, no new ones start"
            case cmd.ResumeDispatcher():
                if not snapshot.dispatcher_paused:
                    raise ValueError("dispatch is not paused")
                self.record(ev.DispatcherResumed(ts=now, by=by))
                return "dispatch resumed"
            case cmd.Refresh():
                self._refresh.set()
                return "polling the sources now"
        task = self._task(command)
        label = self.display_key(task.key)
        match command:
            case cmd.PauseIssue():
                if task.overrides.paused:
                    raise ValueError(f"{label} is already paused")
                self.record(ev.IssuePaused(ts=now, issue=task.key, by=by))
                return f"{label} paused" + (" (its running session goes on)" if task.state is TaskState.RUNNING else "")
            case cmd.ResumeIssue():
                if not task.overrides.paused:
                    raise ValueError(f"{label} is not paused")
                self.record(ev.IssueResumed(ts=now, issue=task.key, by=by))
                return f"{label} resumed"
            case cmd.Bump(delta=delta):
                if task.state.is_final:
                    raise ValueError(f"{label} is {task.state.value}; requeue it first")
                self.record(ev.PriorityBumped(ts=now, issue=task.key, delta=delta, by=by))
                return f"{label} priority {'raised' if delta > 0 else 'lowered'} (bump {task.overrides.bump + delta:+d})"
            case cmd.Pin(pinned=pinned):
                self.record(ev.IssuePinned(ts=now, issue=task.key, pinned=pinned, by=by))
                return f"{label} {'pinned to the top' if pinned else 'unpinned'}"
            case cmd.Requeue():
                if task.state not in (TaskState.FAILED, TaskState.CANCELLED):
                    raise ValueError(f"{label} is {task.state.value}: only failed or cancelled issues can be requeued")
                self.record(ev.IssueRequeued(ts=now, issue=task.key, by=by))
                return f"{label} requeued"
            case cmd.Cancel():
                if task.state is not TaskState.RUNNING:
                    raise ValueError(f"{label} is {task.state.value}: only a running session can be cancelled")
                self.record(ev.CancelRequested(ts=now, issue=task.key, by=by))
                self._cancel_reasons[task.key] = f"cancelled by {by}"
                return f"cancelling {label}"
        raise ValueError(f"unknown command {type(command).__name__}")

    def _task(self, command: cmd.Command) -> TaskRecord:
        key = getattr(command, "issue", "")
        task = self.snapshot.tasks.get(key) or self.snapshot.tasks.get(self._resolve(key))
        if task is None:
            raise ValueError(f"no issue {key or '(none selected)'}")
        return task

    def _resolve(self, key: str) -> str:
        """`12` or `#12` means the issue 12 of the only repository."""
        number = key.lstrip("#")
        matches = [k for k in self.snapshot.tasks if k.endswith(f"#{number}")] if number.isdigit() else []
        return matches[0] if len(matches) == 1 else key

    def display_key(self, key: str) -> str:
        return key if self.multi_repo else "#" + key.rpartition("#")[2]

    # -- running --------------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        path = self.store.log.path.with_suffix(".lock")
        self._lock_file = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            os.close(self._lock_file)
            self._lock_file = None
            raise EngineLocked(f"another waterspider is running on {self.store.log.path}") from error

    async def run(self, *, until_idle: bool = False) -> None:
        """Run until stopped (or, with until_idle, until nothing is left to do)."""
        self._acquire_lock()
        self._running = True
        self._stopped.clear()
        loops: list[asyncio.Task[None]] = []
        try:
            for reporter in self.reporters:
                queue: asyncio.Queue[tuple[ev.Event, Snapshot] | None] = asyncio.Queue()
                self._reporter_queues.append(queue)
                loops.append(asyncio.create_task(self._report_loop(reporter, queue)))
            await self._reconcile()
            self._refill_pool()
            loops += [asyncio.create_task(self._collect_loop(source, interval)) for source, interval in self.sources]
            loops.append(asyncio.create_task(self._dispatch_loop()))
            loops.append(asyncio.create_task(self._probe_loop()))
            while not self._stopping.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=0.2)
                if until_idle and self.is_idle():
                    break
            await self._shutdown()
        finally:
            for loop in loops[len(self.reporters):]:
                loop.cancel()
            await asyncio.gather(*loops[len(self.reporters):], return_exceptions=True)
            for queue in self._reporter_queues:
                queue.put_nowait(None)
            await asyncio.gather(*loops[: len(self.reporters)], return_exceptions=True)
            for source, _ in self.sources:
                with contextlib.suppress(Exception):
                    await source.close()
            for reporter in self.reporters:
                with contextlib.suppress(Exception):
                    await reporter.close()
            for close in self._on_close:
                with contextlib.suppress(Exception):
                    await close()
            if self._refilling is not None:
                with contextlib.suppress(Exception):
                    await self._refilling
            self._git_threads.shutdown(wait=False)
            self._start_threads.shutdown(wait=False)
            if self._lock_file is not None:
                os.close(self._lock_file)
                self._lock_file = None
            self._running = False
            self._stopped.set()

    async def stop(self, *, leave_running: bool = True) -> None:
        """Ask the run to end and wait until it has: sessions detached, or stopped and requeued."""
        self._leave_running = leave_running
        self._stopping.set()
        if self._running:
            await self._stopped.wait()

    def is_idle(self) -> bool:
        """Nothing runs, nothing can start, nothing waits for a retry or a reset."""
        if len(self._polled) < len(self.sources) or self._session_tasks:
            return False
        snapshot = self.snapshot
        if snapshot.running():
            return False
        current = self.plan()
        if snapshot.dispatcher_paused:
            return not snapshot.paused_until
        if current.ready:
            return False
        return not any(item.reason == "retry_wait" for item in current.blocked)

    async def _shutdown(self) -> None:
        self._stopping.set()
        running = list(self._session_tasks.items())
        now = self.clock.now()
        if self._leave_running:
            for key, task in running:
                record = self.snapshot.tasks.get(key)
                task.cancel()
                if record and record.session:
                    self.record(ev.SessionDetached(ts=now, issue=key, session_id=record.session.session_id))
            await asyncio.gather(*(task for _, task in running), return_exceptions=True)
            return
        for key, _ in running:
            self._cancel_reasons[key] = "orchestrator shut down"
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)

    async def _report_loop(self, reporter: Reporter, queue: asyncio.Queue[tuple[ev.Event, Snapshot] | None]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            try:
                await reporter.on_event(*item)
            except Exception:
                log.exception("reporter failed on %s", item[0].type)

    async def _collect_loop(self, source: IssueSource, interval: float) -> None:
        repos = tuple(getattr(source, "repos", ()))
        while True:
            try:
                result = await source.poll()
            except Exception as error:  # a source must not take the engine down
                log.exception("poll of %s failed", source.name)
                result = PollResult(ok=False, message=f"{type(error).__name__}: {error}")
            now = self.clock.now()
            events = poll_events(self.snapshot, repos, result, now)
            status = ev.SourcePolled(
                ts=now, source=source.name, ok=result.ok, message=result.message, next_poll=now + interval,
                rate_remaining=result.rate_remaining, rate_limit=result.rate_limit, wait_until=result.wait_until,
            )
            previous = self.snapshot.sources.get(source.name)
            if events or previous is None or (previous.ok, previous.message, previous.wait_until, previous.rate_remaining) != (status.ok, status.message, status.wait_until, status.rate_remaining):
                self.record(*events, status)
            if not result.ok and (previous is None or previous.message != result.message):
                self.record(ev.Warned(ts=now, message=f"{source.name}: {result.message} (keeping the last good list)"))
            self._stop_gone_sessions(events)
            self._polled.add(source.name)
            self._refresh.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._refresh.wait(), timeout=interval)

    def _stop_gone_sessions(self, events: Iterable[ev.Event]) -> None:
        if self.on_issue_gone != "stop":
            return
        for event in events:
            if isinstance(event, ev.IssueGone) and event.issue in self._session_tasks:
                self._cancel_reasons[event.issue] = f"issue {event.reason}"

    async def _probe_loop(self) -> None:
        while True:
            status = await asyncio.to_thread(probe_local, self.executor.name, self.capacity)
            status = replace(status, slots_used=len(self.snapshot.running()), probed_at=self.clock.now())
            self.record_transient(ev.HostProbed(ts=self.clock.now(), host=status))
            self._report_reporter_errors()
            await asyncio.sleep(HOST_PROBE_INTERVAL_S)

    def _report_reporter_errors(self) -> None:
        """A comment or label that could not be written is shown, not only logged."""
        warnings = [
            ev.Warned(ts=self.clock.now(), message=f"reporting: {line}")
            for reporter in self.reporters
            for line in (reporter.take_errors() if hasattr(reporter, "take_errors") else ())
        ]
        if warnings:
            self.record(*warnings)

    async def _dispatch_loop(self) -> None:
        warned: set[tuple[str, str]] = set()
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            self._wake.clear()
            if self._stopping.is_set():
                return
            now = self.clock.now()
            snapshot = self.snapshot
            if snapshot.dispatcher_paused and snapshot.paused_until and snapshot.paused_until <= now:
                self.record(ev.DispatcherResumed(ts=now, by="reset time reached"))
            current = plan(self.snapshot, now, self.scheduler)
            self._plan_cache = (self.snapshot.seq, int(now), current)
            self._warn_once(current, warned, now)
            for key in current.dispatch:
                self._launch(key)

    def _warn_once(self, current: Plan, warned: set[tuple[str, str]], now: float) -> None:
        fresh: list[ev.Event] = []
        for task, ref in current.unknown_refs:
            if (task, ref) not in warned:
                warned.add((task, ref))
                fresh.append(ev.Warned(ts=now, issue=task, message=f"{self.display_key(task)} refers to {ref}, which is not known: not waiting on it"))
        for cycle in current.cycles:
            signature = ("cycle", " ".join(cycle))
            if signature not in warned:
                warned.add(signature)
                path = " → ".join(self.display_key(k) for k in cycle + cycle[:1])
                fresh.append(ev.Warned(ts=now, message=f"dependency cycle {path}: these issues are held until it is broken"))
        if fresh:
            self.record(*fresh)

    def _launch(self, key: str) -> None:
        task = self.snapshot.tasks[key]
        attempt = task.attempts + 1
        session_id = f"{task.issue.number}-{attempt}-{uuid.uuid4().hex[:8]}"
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", task.issue.repo)
        session_dir = self.sessions_dir / f"{slug}-{task.issue.number}" / f"attempt-{attempt}-{session_id.rsplit('-', 1)[1]}"
        worktree = self.workspace.path_for(task.issue.number, task.issue.repo, self.multi_repo)
        session = SessionInfo(
            session_id=session_id, issue=key, attempt=attempt, executor=self.executor.name, host=self.executor.host,
            worktree=str(worktree), branch=branch_name(task.issue.number, task.issue.repo, self.multi_repo),
            log_path=str(session_dir / "stdout.jsonl"), started_at=self.clock.now(), agent=self.agent.name,
            agent_session_id=task.resume_agent_session,
        )
        try:
            self.record(ev.SessionStarted(ts=self.clock.now(), issue=key, session=session))
        except DuplicateSession as error:
            log.error("refused to start %s twice: %s", key, error)
            return
        self._session_tasks[key] = asyncio.create_task(self._run_session(task, session, session_dir))

    async def _run_session(self, task: TaskRecord, session: SessionInfo, session_dir: Path) -> None:
        key = task.key
        try:
            try:
                workspace = await self._off_loop(self._start_threads, self.workspace.prepare, task.issue.number, task.issue.repo, self.multi_repo)
                self._refill_pool()
            except WorkspaceError as error:
                self._finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.WORKSPACE, error=str(error)))
                return
            context = SessionContext(
                issue_key=key, number=task.issue.number, repo=task.issue.repo, title=task.issue.title,
                body=task.issue.body, labels=task.issue.labels, branch=workspace.branch, worktree=str(workspace.path),
                session_dir=str(session_dir), attempt=session.attempt, resume_agent_session=task.resume_agent_session,
                seed=self.seed,
            )
            try:
                # Off the loop: a launch writes the issue body, slow on a disk busy with starting sessions.
                spec = await self._off_loop(self._start_threads, self.agent.launch, context)
            except (FileNotFoundError, LookupError) as error:
                self._finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.AGENT_NOT_FOUND, error=str(error)))
                return
            pid = await self.executor.start(session_dir, spec)
            if spec.agent_session_id and spec.agent_session_id != session.agent_session_id:
                session = replace(session, agent_session_id=spec.agent_session_id)
            self.record(ev.SessionSpawned(ts=self.clock.now(), issue=key, session_id=session.session_id, pid=pid, agent_session_id=spec.agent_session_id))
            await self._watch(key, session, session_dir)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("session %s failed in the orchestrator", session.session_id)
            self._finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.CRASHED, error=f"orchestrator: {type(error).__name__}: {error}"))
        finally:
            self._session_tasks.pop(key, None)

    async def _watch(self, key: str, session: SessionInfo, session_dir: Path) -> None:
        """Tail the session until it exits, enforcing stall, time, cost and cancel limits."""
        watch = SessionWatch(session_dir / "stdout.jsonl", self.agent.parser())
        self._logs[key] = watch.log
        waiter = asyncio.create_task(self.executor.wait(session_dir))
        started = self.clock.now()
        last_output = started
        last_progress_at = 0.0
        last_progress = None
        stop_reason: str | None = None
        stalled = timed_out = False
        try:
            while not waiter.done():
                await asyncio.wait({waiter}, timeout=TAIL_INTERVAL_S)
                entries = watch.read_new()
                now = self.clock.now()
                if entries:
                    last_output = now
                    self._publish_log(key, entries)
                progress = watch.parser.progress()
                if progress != last_progress and now - last_progress_at >= PROGRESS_INTERVAL_S:
                    event = ev.SessionProgressed(ts=now, issue=key, session_id=session.session_id, progress=replace(progress, last_output_at=last_output))
                    new_phase = last_progress is None or (progress.phase, progress.phases_done) != (last_progress.phase, last_progress.phases_done)
                    (self.record if new_phase else self.record_transient)(event)
                    last_progress, last_progress_at = progress, now
                if stop_reason is None:
                    stop_reason, stalled, timed_out = self._limit_reached(key, progress.cost_usd, now, started, last_output)
                    if stop_reason is not None:
                        asyncio.create_task(self.executor.stop(session_dir, self.grace_s))
            status = waiter.result()
        finally:
            if not waiter.done():
                waiter.cancel()
        entries = watch.read_new(final=True)
        if entries:
            self._publish_log(key, entries)
        result = watch.parser.finish(status.returncode, stalled=stalled, timed_out=timed_out)
        streamed_id = getattr(watch.parser, "session_id", "") or ""
        if streamed_id and not session.agent_session_id:
            session = replace(session, agent_session_id=streamed_id)
        if stop_reason and not stalled and not timed_out:
            if stop_reason.startswith("budget"):
                result = replace(result, outcome=Outcome.FAILED, error_class=ErrorClass.BUDGET, error=stop_reason)
            else:
                result = replace(result, outcome=Outcome.CANCELLED, error_class=None, error=stop_reason)
        commits, files = await self._off_loop(self._git_threads, self.workspace.commits_since_base, session.branch)
        result = replace(result, commits=commits, files_changed=files, duration_s=result.duration_s or max(0.0, status.ended - started), exit_code=status.returncode)
        self._finish(key, session, result)

    @staticmethod
    async def _off_loop(pool: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)

    def _refill_pool(self) -> None:
        """Top up the warm worktree pool in the background, one refill at a time."""
        if self.workspace.warm_pool <= 0 or (self._refilling is not None and not self._refilling.done()):
            return
        self._refilling = asyncio.get_running_loop().run_in_executor(self._git_threads, self.workspace.refill)

    def _limit_reached(self, key: str, cost: float, now: float, started: float, last_output: float) -> tuple[str | None, bool, bool]:
        reason = self._cancel_reasons.pop(key, None)
        if reason:
            return reason, False, False
        if now - last_output > self.stall_timeout_s:
            return f"no output for {now - last_output:.0f}s", True, False
        if now - started > self.timeout_s:
            return f"ran longer than {self.timeout_s:.0f}s", False, True
        if self.per_issue_budget_usd and cost >= self.per_issue_budget_usd:
            return f"budget: ${cost:.2f} reached the per-issue cap ${self.per_issue_budget_usd:.2f}", False, False
        return None, False, False

    def _publish_log(self, key: str, entries: list[LogEntry]) -> None:
        for listener in list(self._log_listeners):
            try:
                listener(key, entries)
            except Exception:
                log.exception("log listener failed")

    def _finish(self, key: str, session: SessionInfo, result: SessionResult) -> None:
        now = self.clock.now()
        events: list[ev.Event] = [ev.SessionFinished(ts=now, issue=key, session_id=session.session_id, result=result)]
        decision = decide_retry(result, session.attempt, max_attempts=self.max_attempts, backoff_s=self.retry_backoff_s, now=now)
        # Resuming a conversation that never got a turn fails the same way again: start afresh.
        resume = session.agent_session_id if result.turns > 0 else ""
        if decision.pause_until is not None and not self.snapshot.dispatcher_paused:
            events.append(ev.DispatcherPaused(ts=now, by="limit", reason=f"{result.error_class.value if result.error_class else 'limit'}: waiting for the reset", until=decision.pause_until))
        if decision.retry and decision.not_before is not None:
            events.append(ev.RetryScheduled(ts=now, issue=key, not_before=decision.not_before, error_class=result.error_class.value if result.error_class else "", resume_agent_session=resume))
        if result.outcome is Outcome.CANCELLED and result.error == "orchestrator shut down":
            events.append(ev.RetryScheduled(ts=now, issue=key, not_before=now, error_class="shutdown", resume_agent_session=resume))
        self.record(*events)
        self._check_daily_budget(now)

    def _check_daily_budget(self, now: float) -> None:
        if not self.daily_budget_usd or self.snapshot.dispatcher_paused:
            return
        spent = self.snapshot.spend_on(utc_day(now))
        if spent >= self.daily_budget_usd:
            self.record(ev.DispatcherPaused(ts=now, by="budget", reason=f"daily budget reached: ${spent:.2f} of ${self.daily_budget_usd:.2f}"))

    # -- restart --------------------------------------------------------------------------
    async def _reconcile(self) -> None:
        """Match what the log says is running with reality: reattach, collect, or requeue."""
        for task in self.snapshot.running():
            session = task.session
            if session is None:
                continue
            session_dir = Path(session.log_path).parent
            status = self.executor.exit_status(session_dir)
            if status is None and self.executor.is_alive(session_dir):
                self.record(ev.SessionSpawned(ts=self.clock.now(), issue=task.key, session_id=session.session_id, pid=session.pid, reattached=True))
                self._session_tasks[task.key] = asyncio.create_task(self._reattach(task.key, session, session_dir))
            elif status is not None:
                self._session_tasks[task.key] = asyncio.create_task(self._reattach(task.key, session, session_dir))
            else:
                spawned = self.executor.was_spawned(session_dir)
                error = "the session's process was gone after a restart" if spawned else "the orchestrator stopped before the session started"
                self._finish(task.key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.LOST if not spawned else ErrorClass.CRASHED, error=error))

    async def _reattach(self, key: str, session: SessionInfo, session_dir: Path) -> None:
        try:
            await self._watch(key, session, session_dir)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("reattached session %s failed", session.session_id)
            self._finish(key, session, SessionResult(outcome=Outcome.FAILED, error_class=ErrorClass.CRASHED, error=str(error)))
        finally:
            self._session_tasks.pop(key, None)


def open_store(path: Path) -> StateStore:
    return StateStore(EventLog(path))
