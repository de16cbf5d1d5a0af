"""Sessions given up on with their host: settled once the host answers again, and the log says how.

A host unreachable past its `lost_after_s` fails its sessions as `host_down` and their issues are
placed again elsewhere. The session on the lost host is then an orphan: normally its watchdog has
stopped it already (`orphan_stop_after_s` is shorter), but a host that was asleep or frozen comes
back with the agent still running. Whichever it is, the session the store holds for the issue is
the one that counts; the orphan is stopped if it still runs, and a `Warned` event for the issue
names both sessions and says why.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass, SessionInfo, TaskState

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor, SessionState
    from waterspider_tui.adapters.executors.pool import ExecutorPool
    from waterspider_tui.core.clock import Clock
    from waterspider_tui.core.state import Snapshot
    from waterspider_tui.store.state_store import StateStore

log = logging.getLogger(__name__)

RECHECK_S = 5.0
"""How often a lost host is asked again about the sessions given up on there."""


def waiting_for_host(label: str, session: SessionInfo, error: Exception) -> str:
    """What a restart says of a session whose host it cannot ask: the issue (`label`) waits for that host."""
    return (
        f"{label} waits for {session.host}: session {session.session_id} was running there and the host cannot be reached "
        f"after the restart ({error}); it is taken as still running until the host answers or is lost"
    )


class OrphanSettler:
    """One watcher per session given up on, until its host answers about it."""

    def __init__(self, *, store: StateStore, clock: Clock, grace_s: float, recheck_s: float = RECHECK_S) -> None:
        self.store = store
        self.clock = clock
        self.grace_s = grace_s
        self.recheck_s = recheck_s
        self._watchers: dict[str, asyncio.Task[None]] = {}
        """Session id -> the task waiting for its host."""

    def resume(self, snapshot: Snapshot, pool: ExecutorPool) -> None:
        """After a restart: watch again every session given up on with its host and not yet settled.

        The log has the attempt (failed as `host_down`) but not what became of it, unless a
        `Warned` naming it says so.
        """
        settled = {message.split(" ", 2)[1] for message in snapshot.warnings if message.startswith("session ") and message.count(" ") >= 2}
        for key, task in snapshot.tasks.items():
            for attempt in task.history:
                if attempt.error_class is not ErrorClass.HOST_DOWN or not attempt.agent_ran or attempt.session_id in settled:
                    continue
                session = SessionInfo(
                    session_id=attempt.session_id, issue=key, attempt=attempt.attempt, executor=attempt.executor, host=attempt.host,
                    worktree=attempt.worktree, branch=attempt.branch, log_path=attempt.log_path, session_dir=attempt.session_dir,
                    started_at=0.0, agent=attempt.agent,
                )
                executor = pool.executor_for(session)
                if attempt.host in {host.name for host in executor.hosts}:  # a host since removed from the config cannot be asked
                    self.watch(key, session, executor)

    def watch(self, key: str, session: SessionInfo, executor: Executor) -> None:
        """Settle the session once its host answers (an SSH host back, or a CI run found again)."""
        if session.session_id not in self._watchers:
            self._watchers[session.session_id] = asyncio.create_task(self._settle(key, session, executor))

    async def _settle(self, key: str, session: SessionInfo, executor: Executor) -> None:
        try:
            state = await self._answer(session, executor)
            if state.alive:
                await executor.stop(session, self.grace_s)
                what = f"was still running on {session.host} when the host answered again: stopped it"
            elif state.exit is not None:
                why = f": {state.exit.error.strip()}" if state.exit.error.strip() else f" (exit {state.exit.returncode})"
                what = f"had ended on {session.host} while the host was out of reach{why}"
            else:
                what = f"was no longer on {session.host} when the host answered again"
            message = f"session {session.session_id} {what}; {self._survivor(key, session)}"
            log.warning("%s: %s", key, message)
            self.store.record((ev.Warned(ts=self.clock.now(), issue=key, message=message),))
        except Exception:  # a settler must never take the run down; the watchdog on the host stays the backstop
            log.exception("could not settle the orphaned session %s", session.session_id)
        finally:
            self._watchers.pop(session.session_id, None)

    async def _answer(self, session: SessionInfo, executor: Executor) -> SessionState:
        """The session's state once its host can be asked; state() never touches the lease, so asking keeps no orphan alive."""
        while True:
            await asyncio.sleep(self.recheck_s)
            try:
                return await executor.state(session)
            except ExecutorError:
                continue

    def _survivor(self, key: str, orphan: SessionInfo) -> str:
        """Which session of the issue counts, and why."""
        task = self.store.snapshot.tasks.get(key)
        current = task.session if task is not None else None
        why = f"its issue was placed again when {orphan.host} could not be reached"
        if task is None:
            return f"it does not count: {why}"
        if current is not None and current.session_id != orphan.session_id and task.state is TaskState.RUNNING:
            return f"session {current.session_id} on {current.host} is the one that counts ({why})"
        if current is not None and current.session_id != orphan.session_id:
            return f"session {current.session_id} on {current.host} is the one that counts ({why}; it ended {task.state.value})"
        return f"it does not count: {why}, and the issue is {task.state.value}"

    async def close(self) -> None:
        watchers = list(self._watchers.values())
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
