"""The dispatcher: on every stored change it plans, then starts what the plan says, each start timed in parts."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import TYPE_CHECKING, Sequence

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.placement import NEED_PREFIX, PIN_PREFIX, NoPlace
from waterspider_tui.engine import loops

if TYPE_CHECKING:
    from waterspider_tui.engine.engine import Engine

WAKE_TIMEOUT_S = 1.0
"""Plan at least this often without a stored change: a retry's backoff or a reset time runs out unannounced."""


class Dispatcher:
    """Plans on every wake of the engine and starts what the plan says; one per run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.warned: set[tuple[str, str]] = set()
        """(issue, warning) pairs already said, so a plan's warnings are logged once."""
        self.unplaced: dict[str, str] = {}
        """Issue key -> why no host can take it, as last said in the log."""
        self.fit_checked: set[str] = set()
        """Ready issues whose pin or needs were checked against the configured hosts (they do not change in a run)."""

    async def run(self, stopping: asyncio.Event) -> None:
        """Plan and start until `stopping` is set."""
        engine = self.engine
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(engine.wake.wait(), timeout=WAKE_TIMEOUT_S)
            engine.wake.clear()
            if stopping.is_set():
                return
            now = engine.clock.now()
            snapshot = engine.snapshot
            if snapshot.dispatcher_paused and snapshot.paused_until and snapshot.paused_until <= now:
                engine.record(ev.DispatcherResumed(ts=now, by="reset time reached"))
            planned, planned_cpu = time.perf_counter(), time.thread_time()
            current = engine.planner.plan(engine.snapshot, now)
            plan_s = (time.perf_counter() - planned, time.thread_time() - planned_cpu)
            engine.remember_plan(current, now)
            loops.warn_once(engine, current, self.warned, now)
            self._warn_never_fitting(current.ready_keys())
            if current.dispatch:
                count = len(current.dispatch)
                share = (plan_s[0] / count, plan_s[1] / count)
                unplaced = await self.start(current.dispatch, stopping, share)
                # The plan fills free slots from the front of the ready order; a slot an issue no host can
                # take leaves free goes to the next ready issue, as the plan would have given it.
                spares = iter(current.ready_keys()[count:])
                while unplaced and not stopping.is_set():
                    more = list(itertools.islice(spares, unplaced))
                    if not more:
                        break
                    unplaced = await self.start(more, stopping, share)

    async def start(self, keys: Sequence[str], stopping: asyncio.Event, plan_share_s: tuple[float, float] = (0.0, 0.0)) -> int:
        """Start what the plan says, each after its source confirmed it (trust, still open); how many
        no host could take while others had room.

        `plan_share_s`: the plan's wall and CPU time divided among what it dispatched, each start's share (a span).
        """
        engine = self.engine
        unplaced = 0
        confirmations = await asyncio.gather(*(loops.confirm(engine, key) for key in keys))
        for key, hold in zip(keys, confirmations):
            if stopping.is_set():
                return 0
            task = engine.snapshot.tasks.get(key)
            if task is None or hold is None or task.state is not TaskState.QUEUED or task.overrides.paused:
                continue
            if hold:
                if task.held_reason != hold:
                    engine.record(ev.IssueHeld(ts=engine.clock.now(), issue=key, reason=hold))
                continue
            placing, placing_cpu = time.perf_counter(), time.thread_time()
            placement = engine.pool.place(engine.snapshot, task, engine.agent.name)
            place_s = (time.perf_counter() - placing, time.thread_time() - placing_cpu)
            if isinstance(placement, NoPlace):
                if not engine.pool.has_room(engine.snapshot):
                    if _restricted(task.issue.labels):  # its pin or needs are why it waits, even while no host has room
                        self._say_unplaced(key, engine.pool.unfit(engine.snapshot, task, engine.agent.name))
                    return 0  # every host is full, down or drained: nothing else can start either
                # Only this issue cannot go anywhere (its labels, a pinned host down): the rest goes on.
                self._say_unplaced(key, engine.pool.unfit(engine.snapshot, task, engine.agent.name))
                unplaced += 1
                continue
            if await engine.blocker_conflicts.held_before_start(key, placement):
                continue  # its blockers' work conflicts: held, no session recorded
            if engine.sessions.launch(key, placement):
                session = engine.snapshot.tasks[key].session
                if session is not None:
                    engine.sessions.spans.add(session.session_id, "plan", *plan_share_s)
                    engine.sessions.spans.add(session.session_id, "place", *place_s)
        return unplaced

    def _warn_never_fitting(self, keys: Sequence[str]) -> None:
        """Say at once that a ready issue no configured host can ever take cannot run: waiting for a slot
        first, the plan reaches it only when one frees, and the operator heard of it at the summary."""
        engine = self.engine
        for key in keys:
            if key in self.fit_checked:
                continue
            self.fit_checked.add(key)
            task = engine.snapshot.tasks.get(key)
            if task is not None and _restricted(task.issue.labels) and engine.pool.never_fits(engine.snapshot, task, engine.agent.name):
                self._say_unplaced(key, "")

    def _say_unplaced(self, key: str, reason: str) -> None:
        """Once per reason: an issue no host can take even with a free slot (labels, a pinned host down or drained)."""
        engine = self.engine
        task = engine.snapshot.tasks.get(key)
        never = engine.pool.never_fits(engine.snapshot, task, engine.agent.name) if task is not None else ""
        reason = never or reason
        if reason and self.unplaced.get(key) != reason:
            self.unplaced[key] = reason
            message = (
                f"{engine.display_key(key)} cannot run on any configured host: {never}; a configuration error of this issue "
                f"(change its host:/needs: labels or the configured hosts)"
            ) if never else f"{engine.display_key(key)} waits for a host: {reason}"
            engine.record(ev.Warned(ts=engine.clock.now(), issue=key, message=message))


def _restricted(labels: Sequence[str]) -> bool:
    """Whether only some hosts may take the issue (`host:` pin, `needs:` labels)."""
    return any(label.startswith((PIN_PREFIX, NEED_PREFIX)) for label in labels)
