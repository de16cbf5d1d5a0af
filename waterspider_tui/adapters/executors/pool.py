"""Every executor's hosts in one place: the engine asks the pool where a session goes."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

from waterspider_tui.core.models import ErrorClass, HostStatus
from waterspider_tui.core.placement import PIN_PREFIX, HostCandidate, NoPlace, Placement, choose_host

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.core.models import SessionInfo
    from waterspider_tui.core.state import Snapshot, TaskRecord

log = logging.getLogger(__name__)


class ExecutorPool:
    """Places sessions on the executors' hosts (see core.placement) and finds a session's executor."""

    def __init__(self, executors: Sequence[Executor]) -> None:
        if not executors:
            raise ValueError("at least one executor is needed")
        names = [executor.name for executor in executors]
        if len(set(names)) != len(names):
            raise ValueError(f"executor names must differ: {', '.join(names)}")
        self.executors = list(executors)
        self._by_name = {executor.name: executor for executor in executors}
        self._answered: set[str] = set()
        """Hosts whose probe answered (up or down) in this run: a status left in the store by an
        earlier run, or none yet, does not make a host placeable."""
        self._down_since: dict[str, float] = {}
        """Host -> monotonic time of the first probe in this run that found it unreachable, while it stays so."""

    @property
    def host_names(self) -> list[str]:
        """Every configured host, probed or not."""
        return [host.name for executor in self.executors for host in executor.hosts]

    @property
    def slots(self) -> int:
        return sum(host.slots for executor in self.executors for host in executor.hosts)

    def executor_named(self, name: str) -> Executor:
        return self._by_name[name]

    def executor_for(self, session: SessionInfo) -> Executor:
        """The executor a session was placed on; a store of an older layout meant the first."""
        return self._by_name.get(session.executor, self.executors[0])

    def candidates(self, snapshot: Snapshot) -> list[HostCandidate]:
        used: dict[tuple[str, str], int] = {}
        for task in snapshot.running():
            if task.session is not None:
                slot = (task.session.executor, task.session.host)
                used[slot] = used.get(slot, 0) + 1
        candidates = []
        for executor in self.executors:
            for host in executor.hosts:
                status = snapshot.hosts.get(host.name)
                checked = status is not None and host.name in self._answered
                candidates.append(HostCandidate(
                    executor=executor.name, host=host.name, slots=host.slots, used=used.get((executor.name, host.name), 0),
                    labels=host.labels, agents=host.agents, reachable=checked and status is not None and status.reachable, checked=checked,
                    load=status.load if status else None, cores=getattr(status, "cores", None) if status else None,
                    draining=host.name in snapshot.draining,
                ))
        return candidates

    def place(self, snapshot: Snapshot, task: TaskRecord, agent: str) -> Placement | NoPlace:
        """Where the task starts; a retry that resumes its agent's session goes where that session and its
        commits are, unless that host is gone (no longer configured, or down past its lost window): then afresh."""
        resume_on, fresh = self.resume_host(task)
        labels = (*task.issue.labels, PIN_PREFIX + resume_on) if resume_on else task.issue.labels
        placement = choose_host(self.candidates(snapshot), labels=labels, agent=agent)
        if isinstance(placement, Placement) and fresh:
            return replace(placement, fresh_reason=fresh)
        return placement

    def resume_host(self, task: TaskRecord) -> tuple[str, str]:
        """(the host a resumed retry must run on, '') or ('', why it starts afresh); ('', '') when it resumes nothing."""
        last = task.history[-1] if task.history else None
        if not task.resume_agent_session or last is None or not last.host:
            return "", ""
        executor = self._by_name.get(last.executor) if last.executor else self.executors[0]
        if executor is None or last.host not in {host.name for host in executor.hosts}:
            return "", f"its agent session and commits are on {last.host}, which is no longer configured"
        if last.error_class is ErrorClass.HOST_DOWN:
            return "", f"its agent session and commits are on {last.host}, which was lost"
        since = self._down_since.get(last.host)
        if since is not None:
            lost_after = getattr(executor, "lost_after_s", None)
            window = float(lost_after(last.host)) if lost_after is not None else 0.0
            if time.monotonic() - since >= window:
                return "", f"its agent session and commits are on {last.host}, out of reach for over {window:g}s"
        return last.host, ""

    def has_room(self, snapshot: Snapshot) -> bool:
        """Some host could take a session now (reachable, not drained, a slot free)."""
        return any(c.reachable and not c.draining and c.used < c.slots for c in self.candidates(snapshot))

    def down_reason(self, snapshot: Snapshot) -> str:
        """Why no host can take work at all: every host answered, and none is reachable ('' otherwise).

        A host not heard from yet may still answer, so it keeps this empty; a drained host is the
        operator's choice, not a reason to wait.
        """
        reasons = []
        for name in self.host_names:
            status = snapshot.hosts.get(name)
            if name not in self._answered or status is None or status.reachable:
                return ""
            reasons.append(f"{name}: {(status.error or 'no answer').removeprefix(f'{name}: ')}")
        return "no host can be reached: " + "; ".join(reasons) if reasons else ""

    def never_fits(self, snapshot: Snapshot, task: TaskRecord, agent: str) -> str:
        """Why no configured host could take the task even all up, undrained and idle: its pin names
        no configured host, or no host has its agent or the labels it needs ('' when one could)."""
        ideal = [replace(candidate, used=0, reachable=True, checked=True, draining=False) for candidate in self.candidates(snapshot)]
        placement = choose_host(ideal, labels=task.issue.labels, agent=agent)
        return placement.reason if isinstance(placement, NoPlace) else ""

    def down_wait_left(self) -> tuple[float, float]:
        """While every host is down: (seconds until the last of them is taken as lost, the longest
        lost window), by each host's own down→lost window (`lost_after_s`); a host with none counts as lost at once."""
        now = time.monotonic()
        left = window = 0.0
        for executor in self.executors:
            lost_after = getattr(executor, "lost_after_s", None)
            for host in executor.hosts:
                host_window = float(lost_after(host.name)) if lost_after is not None else 0.0
                since = self._down_since.get(host.name, now)
                left, window = max(left, since + host_window - now), max(window, host_window)
        return left, window

    def unfit(self, snapshot: Snapshot, task: TaskRecord, agent: str) -> str:
        """Why no host can take the task even once slots free up ('' when one could, when it has room)."""
        idle = [replace(candidate, used=0) for candidate in self.candidates(snapshot)]
        resume_on, _ = self.resume_host(task)
        labels = (*task.issue.labels, PIN_PREFIX + resume_on) if resume_on else task.issue.labels
        placement = choose_host(idle, labels=labels, agent=agent)
        if not isinstance(placement, NoPlace):
            return ""
        return f"resumes on {resume_on}, where its agent session and commits are: {placement.reason}" if resume_on else placement.reason

    async def probe(self) -> list[HostStatus]:
        """Every host's status; an executor whose probe fails shows its hosts unreachable."""
        results = await asyncio.gather(*(executor.probe() for executor in self.executors), return_exceptions=True)
        statuses: list[HostStatus] = []
        for executor, result in zip(self.executors, results):
            if isinstance(result, BaseException):
                log.warning("probe of %s failed: %s", executor.name, result)
                statuses += [HostStatus(name=host.name, slots_total=host.slots, reachable=False, error=str(result)) for host in executor.hosts]
            else:
                statuses += result
        self._answered.update(status.name for status in statuses)
        now = time.monotonic()
        for status in statuses:
            if status.reachable:
                self._down_since.pop(status.name, None)
            else:
                self._down_since.setdefault(status.name, now)
        return statuses

    async def close(self) -> None:
        for executor in self.executors:
            try:
                await executor.close()
            except Exception:
                log.exception("closing executor %s failed", executor.name)
