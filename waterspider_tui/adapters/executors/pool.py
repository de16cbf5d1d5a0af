"""Every executor's hosts in one place: the engine asks the pool where a session goes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

from waterspider_tui.core.models import HostStatus
from waterspider_tui.core.placement import HostCandidate, NoPlace, Placement, choose_host

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
                candidates.append(HostCandidate(
                    executor=executor.name, host=host.name, slots=host.slots, used=used.get((executor.name, host.name), 0),
                    labels=host.labels, agents=host.agents, reachable=status.reachable if status else True,
                    load=status.load if status else None, cores=getattr(status, "cores", None) if status else None,
                    draining=host.name in snapshot.draining,
                ))
        return candidates

    def place(self, snapshot: Snapshot, task: TaskRecord, agent: str) -> Placement | NoPlace:
        return choose_host(self.candidates(snapshot), labels=task.issue.labels, agent=agent)

    def has_room(self, snapshot: Snapshot) -> bool:
        """Some host could take a session now (reachable, not drained, a slot free)."""
        return any(c.reachable and not c.draining and c.used < c.slots for c in self.candidates(snapshot))

    def unfit(self, snapshot: Snapshot, task: TaskRecord, agent: str) -> str:
        """Why no host can take the task even once slots free up ('' when one could, when it has room)."""
        idle = [replace(candidate, used=0) for candidate in self.candidates(snapshot)]
        placement = choose_host(idle, labels=task.issue.labels, agent=agent)
        return placement.reason if isinstance(placement, NoPlace) else ""

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
        return statuses

    async def close(self) -> None:
        for executor in self.executors:
            try:
                await executor.close()
            except Exception:
                log.exception("closing executor %s failed", executor.name)
