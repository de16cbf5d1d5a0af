"""How far estimates miss, learned from sessions, and the margin a long pole's estimate is counted with.

A long pole is started early because one that runs over late ends the run late. How early
depends on how far estimates miss: with a log-normal error of spread s, a task takes on
average exp(s²/2) times its estimate (×1.13 at s 0.5, ×1.65 at s 1.0). The spread is the
root mean square of log(actual / estimate) over finished sessions, and over running ones
already past their estimate at what they have run so far (they would be missing otherwise:
the sessions that finish first are the ones that ran short).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import compress
from operator import is_not
from typing import Iterable, Mapping

from waterspider_tui.core.estimates import sample_of
from waterspider_tui.core.priority import PriorityConfig, estimate_minutes
from waterspider_tui.core.state import TaskRecord

MAX_RATIO = 16.0
"""Each sample's actual / estimate is clipped to [1/16, 16]: one wild session moves the spread, it does not decide it."""


@dataclass(frozen=True)
class Spread:
    """How far estimates missed: the root mean square of log(actual / estimate)."""

    log_spread: float
    samples: int

    @property
    def typical_miss(self) -> float:
        """The factor a typical estimate is off by, either way (×1.65 at a spread of 0.5)."""
        return math.exp(self.log_spread)

    def margin(self, floor: float, ceiling: float) -> float:
        """What a long pole's own estimate counts as: the mean overrun exp(s²/2), kept within [floor, ceiling]."""
        return min(max(math.exp(self.log_spread**2 / 2), floor), max(ceiling, floor))


class SpreadTracker:
    """The `Spread` of a sequence of snapshots, folding only finished tasks it has not seen."""

    def __init__(self, priority: PriorityConfig, min_samples: int) -> None:
        self._priority = priority
        self._min_samples = min_samples
        self._finished: dict[str, tuple[TaskRecord, float | None]] = {}
        """Folded finished tasks by key: the record and its squared log ratio (None: no sample)."""
        self._records: dict[str, TaskRecord] = {}
        """The records of `_finished` alone, by key."""
        self._sum = 0.0
        self._count = 0
        self._due: dict[int, tuple[TaskRecord, float]] = {}
        """Running records by identity (each kept, so the identity stays its own): when they may be past their estimate."""

    def observe(self, succeeded: Mapping[str, TaskRecord], running: Iterable[TaskRecord], now: float) -> Spread | None:
        """The spread of the succeeded tasks (all of them, by key) and of the running ones past
        their estimate at `now`; None with fewer than `min_samples` samples."""
        folded, records = self._finished, self._records
        changed = len(succeeded) != len(folded)
        # map and compress, not a loop: this compares every succeeded task on every plan
        for key in list(compress(succeeded, map(is_not, map(records.get, succeeded), succeeded.values()))):
            task = records[key] = succeeded[key]
            folded[key] = (task, _squared_miss(task, self._priority))
            changed = True
        if changed:
            for key in [key for key, (record, _) in folded.items() if succeeded.get(key) is not record]:
                del folded[key]
                del records[key]
            squares = [square for _, square in folded.values() if square is not None]
            self._sum, self._count = math.fsum(squares), len(squares)
        overruns = self._overruns(running, now)
        count = self._count + len(overruns)
        if count < self._min_samples:
            return None
        return Spread(math.sqrt((self._sum + math.fsum(overruns)) / count), count)

    def _overruns(self, running: Iterable[TaskRecord], now: float) -> list[float]:
        """The squared log overrun of each running session already past its estimate (it will take
        at least what it has run so far).

        This runs for every running session on every plan: each record's start and estimate are
        read once (an estimate may take parsing labels and body), and a session is looked at
        closer only once the clock is near the end of its estimate."""
        known = self._due
        squares: list[float] = []
        running = list(running)
        for task in running:
            entry = known.get(id(task))
            if entry is None or entry[0] is not task:
                entry = known[id(task)] = (task, _nearly_due(task))
            if now > entry[1]:
                session, estimate = task.session, estimate_minutes(task.issue)
                if session is not None and estimate:
                    ratio = (now - session.started_at) / 60 / estimate
                    if ratio > 1:
                        squares.append(_clipped_log(ratio) ** 2)
        if len(known) > 2 * len(running) + 64:  # records of sessions that ended, or changed since
            self._due = {id(task): known[id(task)] for task in running}
        return squares


def _nearly_due(task: TaskRecord) -> float:
    """A time up to which the running task cannot be past its estimate (infinite without a
    session or an estimate): its start plus its estimate less a millisecond, a margin far above
    the rounding of these figures, so a session left out up to then would not have counted."""
    estimate = estimate_minutes(task.issue)
    if task.session is None or not estimate or estimate <= 0:
        return math.inf
    return task.session.started_at + estimate * 60 - 0.001


def _squared_miss(task: TaskRecord, priority: PriorityConfig) -> float | None:
    sample = sample_of(task, priority)
    if sample is None or sample.estimate is None or sample.estimate <= 0 or sample.actual <= 0:
        return None
    return _clipped_log(sample.actual / sample.estimate) ** 2


def _clipped_log(ratio: float) -> float:
    limit = math.log(MAX_RATIO)
    return min(max(math.log(ratio), -limit), limit)
