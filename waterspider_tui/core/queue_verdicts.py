"""Each queued task's readiness verdict from the plans before, kept while nothing it was judged on changed.

A plan judges every queued task (`Readiness.blocker`); with a thousand tasks that walk was most of
a plan's cost, while between two plans only a few records change (a session ended, the next one
started). A verdict depends on the task's record, its dependencies' records, the cycles and, for
a retry's backoff, the clock; so it is kept until one of those records is replaced (the reducer
replaces only the records that change) or the cycles change, and never kept for a task waiting
out a backoff. Which records changed is found by identity against the last planned snapshot's.
"""

from __future__ import annotations

from itertools import compress
from operator import is_not
from typing import Mapping

from waterspider_tui.core.readiness import BlockedTask, Readiness, UnknownRefs
from waterspider_tui.core.state import Snapshot, TaskRecord

Verdict = tuple[BlockedTask | None, UnknownRefs]
"""Why the task waits (None: it is ready) and the references it names that nobody knows."""


class QueueVerdicts:
    """The verdicts of successive snapshots' queued tasks; one per `Planner`, one caller at a time."""

    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness
        self._tasks: Mapping[str, TaskRecord] = {}
        """The records the kept verdicts were judged against (the last snapshot's)."""
        self._in_cycle: object = None
        """The cycle members the kept verdicts were judged against."""
        self._verdicts: dict[str, Verdict] = {}
        self._dependants: dict[str, set[str]] = {}
        """Issue key -> the tasks that name it as a dependency (known to the snapshot or not)."""

    def begin(
        self, tasks: Mapping[str, TaskRecord], in_cycle: Mapping[str, tuple[str, ...]], changed: list[str] | None = None,
    ) -> Mapping[str, Verdict]:
        """Forget the verdicts this snapshot may change: those of tasks whose record was replaced,
        added or removed since the last call, and of the tasks that wait on them. The verdicts
        kept, by issue key: they hold for this snapshot, except a task's waiting out a backoff
        (never kept), and the caller may read them without a call per task.

        `changed`: those keys when the caller found them already, against the same last snapshot."""
        last = self._tasks
        self._tasks = tasks
        if in_cycle is not self._in_cycle:
            self._in_cycle = in_cycle
            self._verdicts.clear()
        if changed is None:
            # map and compress, not a comprehension: this compares every record on every plan
            changed = list(compress(tasks, map(is_not, map(last.get, tasks), tasks.values())))
            added = sum(1 for key in changed if key not in last)
            if len(tasks) - added != len(last):
                changed += [key for key in last if key not in tasks]
        if not changed:
            return self._verdicts
        verdicts, dependants = self._verdicts, self._dependants
        for key in changed:
            before, after = last.get(key), tasks.get(key)
            before_deps = before.deps if before is not None else ()
            after_deps = after.deps if after is not None else ()
            if before_deps != after_deps:
                for dep in before_deps:
                    waiting = dependants.get(dep)
                    if waiting is not None:
                        waiting.discard(key)
                for dep in after_deps:
                    dependants.setdefault(dep, set()).add(key)
        for key in changed:
            verdicts.pop(key, None)
            for dependant in dependants.get(key, ()):
                verdicts.pop(dependant, None)
        return verdicts

    def judge(self, key: str, task: TaskRecord, snapshot: Snapshot, in_cycle: dict[str, tuple[str, ...]], now: float) -> Verdict:
        """The queued task's verdict for `snapshot` (the one given to `begin`), kept or judged now."""
        waits_out_backoff = bool(task.not_before)
        if not waits_out_backoff:
            known = self._verdicts.get(key)
            if known is not None:
                return known
        verdict: Verdict
        # most tasks are plainly ready or plainly waiting: the full check only when it can say more
        if not task.deps and not (task.held_reason or task.overrides.paused or key in in_cycle or (task.not_before and task.not_before > now)):
            verdict = (None, ())
        else:
            unknown: list[tuple[str, str]] = []
            verdict = (self.readiness.blocker(key, task, snapshot, in_cycle, now, unknown), tuple(unknown))
        if not waits_out_backoff:
            self._verdicts[key] = verdict
        return verdict
