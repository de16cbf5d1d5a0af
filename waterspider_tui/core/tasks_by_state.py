"""The queued, running, open and succeeded tasks of successive snapshots, kept up to date from the records that changed.

Sorting a thousand tasks by state on every plan was a large part of a plan's cost, while between
two plans only a few records change. Each group keeps the snapshot's order (sums over them are
taken in that order); a task joining a group in the middle of that order sorts the group again.
"""

from __future__ import annotations

from itertools import compress, repeat
from operator import attrgetter, is_, is_not
from typing import Mapping

from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import TaskRecord

_STATE_OF = attrgetter("state")


class TasksByState:
    """One per `Planner`. The groups are read-only views for the duration of a plan: the next
    `update` changes them in place, so nobody keeps them."""

    def __init__(self) -> None:
        self._tasks: Mapping[str, TaskRecord] = {}
        """The snapshot's records the groups were brought up to date with."""
        self._position: dict[str, int] = {}
        """Each key's place in the snapshot's order."""
        self.queued: dict[str, TaskRecord] = {}
        self.running: dict[str, TaskRecord] = {}
        self.open: dict[str, TaskRecord] = {}
        """Queued and running."""
        self.succeeded: dict[str, TaskRecord] = {}

    def update(self, tasks: Mapping[str, TaskRecord]) -> list[str]:
        """Bring the groups up to date with `tasks`; the keys whose record was replaced, added or
        removed since the last call."""
        last = self._tasks
        self._tasks = tasks
        # map and compress, not a comprehension: this compares every record on every plan
        changed = list(compress(tasks, map(is_not, map(last.get, tasks), tasks.values())))
        added = [key for key in changed if key not in last]
        if not last or len(tasks) - len(added) != len(last):
            self._rebuild(tasks)
            return changed + [key for key in last if key not in tasks]
        position = self._position
        for key in added:
            position[key] = len(position)
        unordered: set[int] = set()
        groups = (self.queued, self.running, self.open, self.succeeded)
        for key in changed:
            task = tasks[key]
            state = task.state
            queued, running = state is TaskState.QUEUED, state is TaskState.RUNNING
            wanted = (queued, running, queued or running, state is TaskState.SUCCEEDED)
            for index, (group, member) in enumerate(zip(groups, wanted)):
                if not member:
                    group.pop(key, None)
                elif key in group or not group or position[key] > position[next(reversed(group))]:
                    group[key] = task
                else:
                    group[key] = task
                    unordered.add(index)
        for index in unordered:
            group = groups[index]
            ordered = sorted(group, key=position.__getitem__)
            group.clear()
            group.update((key, tasks[key]) for key in ordered)
        return changed

    def _rebuild(self, tasks: Mapping[str, TaskRecord]) -> None:
        """Every group and place afresh (the first snapshot, or one that lost a task)."""
        self._position = {key: index for index, key in enumerate(tasks)}
        states = list(map(_STATE_OF, tasks.values()))
        items = tasks.items()
        queued = list(map(is_, states, repeat(TaskState.QUEUED)))
        running = list(map(is_, states, repeat(TaskState.RUNNING)))
        self.queued = dict(compress(items, queued))
        self.running = dict(compress(items, running))
        self.open = dict(compress(items, map(bool.__or__, queued, running)))
        self.succeeded = dict(compress(items, map(is_, states, repeat(TaskState.SUCCEEDED))))
