"""Estimates corrected by history: how long finished issues took against their estimates.

For each finished issue with an estimate, the log of actual / estimate (clipped to ×4 either
way) is one sample. The correction of an estimate is exp(overall + level + size), in log
space: the overall mean, then per priority level the mean of what the overall leaves, then
per size bucket (small/medium/large by the estimate) the mean of what both leave. Each mean
is shrunk toward ×1 as if it had `prior_samples` more samples exactly on the estimate, and
applies only from `min_samples` on, so a handful of finished issues cannot swing it. Issues
without an estimate get the typical duration (geometric mean) of finished issues without
one, else of all finished issues, shrunk toward the configured default.

`Learner` folds a snapshot's finished tasks as they appear and refits only when the count of
samples doubles, from the first samples in finishing order: the figures are a function of the
snapshot alone and change O(log n) times over a run.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from itertools import compress
from operator import is_not
from typing import Callable, Iterable, Mapping

from waterspider_tui.core.models import Outcome, TaskState
from waterspider_tui.core.priority import PriorityConfig, estimate_minutes, label_weight
from waterspider_tui.core.state import TaskRecord

@dataclass(frozen=True)
class EstimateConfig:
    """How much history it takes to move an estimate."""

    min_samples: int = 5
    """An effect (overall, a level, a size) applies only with at least this many finished issues."""
    prior_samples: float = 5.0
    """Shrinkage: each effect counts this many extra samples at ×1 (or at the default duration)."""
    max_ratio: float = 4.0
    """Each sample's actual / estimate is clipped to [1/max_ratio, max_ratio]."""
    size_bounds_min: tuple[float, float] = (30.0, 120.0)
    """Estimates below the first are small, from the second on large."""
    checkpoint_growth: float = 2.0
    """The learner refits when the sample count has grown by this factor (each refit rescores every ready task)."""


@dataclass(frozen=True)
class Sample:
    """One finished issue: its priority level ('' if none), estimate (None if none) and actual minutes."""

    level: str
    estimate: float | None
    actual: float


@dataclass(frozen=True)
class Effect:
    """A learned factor and the number of finished issues it comes from."""

    factor: float
    samples: int


@dataclass(frozen=True)
class Learned:
    """One issue's duration for scheduling, with where it came from."""

    minutes: float
    estimate: float | None
    factor: float = 1.0
    basis: tuple[tuple[str, Effect], ...] = ()
    """(group, effect) per effect applied: '' for all finished issues, a level (`P3`), a size
    (`large`); for an issue with no estimate, `without an estimate` or ''."""

    def explain(self) -> str:
        """`estimate 60m × 1.40 learned from 12 finished P3 issues (× 1.25), ...`, or the plain estimate."""
        if self.estimate is None:
            if not self.basis:
                return f"estimate {self.minutes:g}m (default)"
            group, effect = self.basis[0]
            return f"no estimate: {self.minutes:g}m, typical of {effect.samples} finished issues" + (f" {group}" if group else "")
        if not self.basis:
            return f"estimate {self.estimate:g}m"
        sources = [f"{effect.samples} finished {group + ' ' if group else ''}issues" for group, effect in self.basis]
        if len(sources) > 1:
            sources = [f"{source} (× {effect.factor:.2f})" for source, (_, effect) in zip(sources, self.basis)]
        return f"estimate {self.estimate:g}m × {self.factor:.2f} learned from {', '.join(sources)}"


@dataclass(frozen=True)
class Estimates:
    """A fitted correction: effects by level and size, and the default for issues with no estimate."""

    overall: Effect
    levels: Mapping[str, Effect]
    sizes: Mapping[str, Effect]
    default: Learned
    """What an issue with no estimate is taken to last."""
    size_bounds_min: tuple[float, float] = (30.0, 120.0)
    _groups: dict[tuple[str, str], tuple[float, tuple[tuple[str, Effect], ...]]] = field(
        default_factory=dict, compare=False, repr=False,
    )
    """Factor and basis by (level, size), filled on first use (the scheduler asks once per open task)."""

    def duration(self, level: str, estimate: float | None) -> Learned:
        """The learned duration of an issue of this level and estimate."""
        if estimate is None:
            return self.default
        size = size_of(estimate, self.size_bounds_min)
        group = self._groups.get((level, size))
        if group is None:
            group = self._groups[(level, size)] = self._group(level, size)
        factor, basis = group
        return Learned(estimate * factor, estimate, factor, basis)

    def _group(self, level: str, size: str) -> tuple[float, tuple[tuple[str, Effect], ...]]:
        basis = [("", self.overall)] if self.overall.factor != 1.0 else []
        level_effect = self.levels.get(level)
        if level_effect is not None and level_effect.factor != 1.0:
            basis.append((level or "unlabelled", level_effect))
        size_effect = self.sizes.get(size)
        if size_effect is not None and size_effect.factor != 1.0:
            basis.append((size, size_effect))
        return math.prod(effect.factor for _, effect in basis), tuple(basis)


def size_of(estimate: float, bounds: tuple[float, float]) -> str:
    """`small`, `medium` or `large` by the estimate in minutes."""
    return "small" if estimate < bounds[0] else "large" if estimate >= bounds[1] else "medium"


def nothing_learned(default_min: float, config: EstimateConfig = EstimateConfig()) -> Estimates:
    """Estimates as given, the configured default for issues without one."""
    return Estimates(Effect(1.0, 0), {}, {}, Learned(default_min, None), config.size_bounds_min)


def learn(samples: Iterable[Sample], default_min: float, config: EstimateConfig = EstimateConfig()) -> Estimates:
    """Fit the effects and the no-estimate default from finished issues (see the module docstring)."""
    cells: dict[tuple[str, str], list[float]] = {}
    plain: list[float] = []
    every: list[float] = []
    limit = math.log(config.max_ratio)
    for sample in samples:
        if sample.actual <= 0:
            continue
        every.append(math.log(sample.actual))
        if sample.estimate is None or sample.estimate <= 0:
            plain.append(math.log(sample.actual))
            continue
        ratio = min(max(math.log(sample.actual / sample.estimate), -limit), limit)
        cells.setdefault((sample.level, size_of(sample.estimate, config.size_bounds_min)), []).append(ratio)
    overall, levels, sizes = _fit(cells, config)
    return Estimates(overall, levels, sizes, _default(plain, every, default_min, config), config.size_bounds_min)


def _fit(cells: Mapping[tuple[str, str], list[float]], config: EstimateConfig) -> tuple[Effect, dict[str, Effect], dict[str, Effect]]:
    """Overall, then level on what overall leaves, then size on what both leave; each a shrunk mean in log space.

    A level or size effect needs `min_samples` finished issues in the group and as many
    outside it: with none outside, it could not be told apart from the overall effect.
    """
    counts = {cell: len(values) for cell, values in cells.items()}
    sums = {cell: math.fsum(values) for cell, values in cells.items()}
    total = sum(counts.values())
    shrink = config.prior_samples
    overall = sum(sums.values()) / (total + shrink) if total >= config.min_samples else 0.0
    level_fx = _group_effects(cells, counts, sums, 0, lambda cell: overall, total, config)
    size_fx = _group_effects(cells, counts, sums, 1, lambda cell: overall + level_fx[cell[0]][0], total, config)
    return (
        _effect(overall, total),
        {level: _effect(*value) for level, value in level_fx.items()},
        {size: _effect(*value) for size, value in size_fx.items()},
    )


def _group_effects(
    cells: Mapping[tuple[str, str], list[float]], counts: Mapping[tuple[str, str], int], sums: Mapping[tuple[str, str], float],
    axis: int, explained: Callable[[tuple[str, str]], float], total: int, config: EstimateConfig,
) -> dict[str, tuple[float, int]]:
    """Per group along `axis` (0 level, 1 size): the shrunk mean of what `explained` leaves, and the count."""
    residual: dict[str, float] = {}
    group_n: dict[str, int] = {}
    for cell in cells:
        group = cell[axis]
        residual[group] = residual.get(group, 0.0) + sums[cell] - counts[cell] * explained(cell)
        group_n[group] = group_n.get(group, 0) + counts[cell]
    effects: dict[str, tuple[float, int]] = {}
    for group, count in group_n.items():
        applies = count >= config.min_samples and total - count >= config.min_samples
        effects[group] = (residual[group] / (count + config.prior_samples) if applies else 0.0, count)
    return effects


def _effect(log_factor: float, samples: int) -> Effect:
    # to 0.1%: the history says no more than that, and the texts stay short
    return Effect(round(math.exp(log_factor), 3), samples)


def _default(plain: list[float], every: list[float], default_min: float, config: EstimateConfig) -> Learned:
    for logs, group in ((plain, "without an estimate"), (every, "")):
        if len(logs) >= config.min_samples:
            shrink = config.prior_samples
            minutes = math.exp((math.fsum(logs) + shrink * math.log(default_min)) / (len(logs) + shrink))
            return Learned(round(minutes, 1), None, 1.0, ((group, Effect(1.0, len(logs))),))
    return Learned(default_min, None)


def sample_of(task: TaskRecord, priority: PriorityConfig) -> Sample | None:
    """The task's sample if it succeeded with a known duration, else None."""
    if task.state is not TaskState.SUCCEEDED:
        return None
    attempt = next((item for item in reversed(task.history) if item.outcome is Outcome.SUCCEEDED), None)
    if attempt is None or attempt.duration_s <= 0:
        return None
    return Sample(label_weight(task.issue.labels, priority)[1], estimate_minutes(task.issue), attempt.duration_s / 60)


class Learner:
    """The current `Estimates` of a sequence of snapshots, folding only finished tasks it has not seen."""

    def __init__(self, priority: PriorityConfig, default_min: float, config: EstimateConfig = EstimateConfig()) -> None:
        self.priority = priority
        self.default_min = default_min
        self.config = config
        self._records: dict[str, tuple[TaskRecord, tuple[float, str]]] = {}
        """Folded tasks by key: the record and its place in `_order`."""
        self._folded: dict[str, TaskRecord] = {}
        """The records of `_records` alone, by key."""
        self._order: list[tuple[float, str]] = []
        """(finished at, key) of every sample, in finishing order."""
        self._samples: dict[str, Sample] = {}
        self._used = 0
        """How many samples, from the start of `_order`, the current estimates come from."""
        self.estimates = nothing_learned(default_min, config)
        self.refits = 0

    def observe(self, succeeded: Mapping[str, TaskRecord]) -> Estimates:
        """The estimates learned from a snapshot's succeeded tasks (all of them, by key).

        Only records not folded before are read; the same tasks always give the same figures.
        """
        first_change = len(self._order)
        records = self._records
        # map and compress, not a comprehension: this compares every succeeded task on every plan
        fresh = [(key, succeeded[key]) for key in compress(succeeded, map(is_not, map(self._folded.get, succeeded), succeeded.values()))]
        changed = bool(fresh)
        for key, task in fresh:
            first_change = min(first_change, self._forget(key), self._fold(key, task))
        if len(succeeded) != len(records):
            changed = True
            for key in [key for key, (record, _) in records.items() if succeeded.get(key) is not record]:
                first_change = min(first_change, self._forget(key))
        if not changed:
            return self.estimates
        use = self._checkpoint(len(self._order))
        if use != self._used or first_change < self._used:
            self._used = use
            fitted = learn((self._samples[key] for _, key in self._order[:use]), self.default_min, self.config)
            if fitted != self.estimates:
                self.estimates = fitted
                self.refits += 1
        return self.estimates

    def _fold(self, key: str, task: TaskRecord) -> int:
        sample = sample_of(task, self.priority)
        place = (task.finished_at or 0.0, key)
        self._records[key] = (task, place)
        self._folded[key] = task
        if sample is None:
            return len(self._order)
        self._samples[key] = sample
        position = bisect.bisect_left(self._order, place)
        self._order.insert(position, place)
        return position

    def _forget(self, key: str) -> int:
        known = self._records.pop(key, None)
        self._folded.pop(key, None)
        if known is None or self._samples.pop(key, None) is None:
            return len(self._order)
        position = bisect.bisect_left(self._order, known[1])
        del self._order[position]
        return position

    def _checkpoint(self, count: int) -> int:
        """The largest checkpoint (min_samples, then ×growth) at or below `count`; 0 below min_samples."""
        step = self.config.min_samples
        if count < step:
            return 0
        while True:
            following = max(step + 1, math.ceil(step * self.config.checkpoint_growth))
            if following > count:
                return step
            step = following
