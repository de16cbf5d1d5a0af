"""Seeded backlogs: five shapes (`FAMILIES`) and four harder ones (`EXTRA_FAMILIES`); log-normal
estimates, log-normal estimation error, an optional bias."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from waterspider_tui.simulation.workload import SimIssue, Workload

FAMILIES = ("independent", "backlog", "layered", "chains", "fanout")
EXTRA_FAMILIES = ("long-tail", "fan-in", "p0-underestimated", "p0-stream")
"""`long-tail`: a few very long issues (6–16 h) among many short ones (10–40 min); `fan-in`: one
issue waits on 30 (and two follow-ups on it), the rest independent; `p0-underestimated`: the
backlog shape, with true durations biased per label (`LABEL_BIASED`: P0s take twice their
estimate); `p0-stream`: the backlog shape, a third of its issues (of those no other waits on)
turned into P0s that appear one by one over the first `STREAM_SPREAD` of the run, faster than
the slots can take them (P0 work that keeps coming)."""
PRIORITY_SHARES = (("P0", 0.10), ("P1", 0.25), ("P2", 0.40), ("P3", 0.25))
MEDIAN_ESTIMATE_MIN = 45.0
ESTIMATE_SIGMA = 0.8
"""Spread of the estimates themselves: most tasks 15 min to 2 h, a few a day."""
BACKLOG_AGE_MIN = 14 * 24 * 60.0
"""Issues were opened at random over the last two weeks (FIFO and age order differ from numbers)."""


@dataclass(frozen=True)
class Bias:
    """Systematic underestimation on top of the random error, as real backlogs have it.

    A task's true duration is multiplied by its level's factor and by a size factor that is 1
    up to the median estimate and grows as a power of the estimate above it, reaching `large`
    at `large_at_min`; it has no steps, so a learner's size buckets can only approximate it.
    """

    by_priority: Mapping[str, float] = field(default_factory=dict)
    large: float = 1.0
    large_at_min: float = 180.0

    def factor(self, priority: str, estimate: float) -> float:
        exponent = math.log(self.large) / math.log(self.large_at_min / MEDIAN_ESTIMATE_MIN)
        return self.by_priority.get(priority, 1.0) * (max(estimate, MEDIAN_ESTIMATE_MIN) / MEDIAN_ESTIMATE_MIN) ** exponent

    def describe(self) -> str:
        levels = ", ".join(f"{level} ×{factor:g}" for level, factor in sorted(self.by_priority.items()))
        size = f"×{self.large:g} at {self.large_at_min / 60:g} h estimated (smoothly above {MEDIAN_ESTIMATE_MIN:g} min)" if self.large != 1.0 else ""
        return "; ".join(part for part in (levels, size) if part) or "none"


UNDERESTIMATED = Bias(by_priority={"P3": 1.5}, large=1.5)
LABEL_BIASED = Bias(by_priority={"P0": 2.0, "P1": 1.3, "P3": 0.8})
"""P0s take twice their estimate, P1s 1.3 times, P3s 0.8 (urgent work is underestimated)."""
"""P3s take 1.5× their estimate, and tasks estimated at 3 h take 1.5× (about 1.25× at 90 min, 2× at 8 h)."""

Shape = Callable[[random.Random, int], list[list[int]]]
"""Given a size, the dependency lists (0-based positions) of each position."""


def _independent(rng: random.Random, size: int) -> list[list[int]]:
    return [[] for _ in range(size)]


def _backlog(rng: random.Random, size: int) -> list[list[int]]:
    """Mostly independent; about a third of the issues in small graphs of 2 to 6."""
    deps: list[list[int]] = [[] for _ in range(size)]
    position = 0
    while position < size:
        group = rng.randint(2, 6) if rng.random() < 0.12 else 1
        group = min(group, size - position)
        for member in range(1, group):
            parents = rng.sample(range(member), k=min(member, rng.randint(1, 2)))
            deps[position + member] = [position + parent for parent in parents]
        position += group
    return deps


def _layered(rng: random.Random, size: int) -> list[list[int]]:
    """Six layers; each issue waits on 1 to 3 of the layer before, a fifth also on an older layer."""
    bounds = [round(size * layer / 6) for layer in range(7)]
    layers = [list(range(bounds[i], bounds[i + 1])) for i in range(6)]
    deps: list[list[int]] = [[] for _ in range(size)]
    for index in range(1, 6):
        previous = layers[index - 1] or [p for layer in layers[:index] for p in layer]
        for node in layers[index]:
            if not previous:
                continue
            parents = set(rng.sample(previous, k=min(len(previous), rng.randint(1, 3))))
            older = [p for layer in layers[: index - 1] for p in layer]
            if older and rng.random() < 0.2:
                parents.add(rng.choice(older))
            deps[node] = sorted(parents)
    return deps


def _chains(rng: random.Random, size: int) -> list[list[int]]:
    """Chains of eight over about half of the backlog; the rest independent."""
    deps: list[list[int]] = [[] for _ in range(size)]
    chains = max(1, (size // 2) // 8)
    for chain in range(chains):
        start = chain * 8
        for step in range(1, 8):
            if start + step < size:
                deps[start + step] = [start + step - 1]
    return deps


def _fanout(rng: random.Random, size: int) -> list[list[int]]:
    """Epics of a root, a dozen children, a join and two to four follow-ups; the rest independent."""
    deps: list[list[int]] = [[] for _ in range(size)]
    position = 0
    while position + 17 <= size:
        root, children, join = position, list(range(position + 1, position + 13)), position + 13
        for child in children:
            deps[child] = [root]
        deps[join] = children
        follow_ups = min(rng.randint(2, 4), size - join - 1)
        for offset in range(follow_ups):
            deps[join + 1 + offset] = [join]
        position = join + 1 + follow_ups
    return deps


def _fan_in(rng: random.Random, size: int) -> list[list[int]]:
    """One issue waits on 30 others (two follow-ups wait on it); the rest independent."""
    deps: list[list[int]] = [[] for _ in range(size)]
    wide = min(30, size - 3)
    join = wide
    deps[join] = list(range(wide))
    for follow_up in range(join + 1, min(join + 3, size)):
        deps[follow_up] = [join]
    return deps


SHAPES: dict[str, Shape] = {
    "independent": _independent, "backlog": _backlog, "layered": _layered, "chains": _chains, "fanout": _fanout,
    "long-tail": _independent, "fan-in": _fan_in, "p0-underestimated": _backlog, "p0-stream": _backlog,
}
LONG_TAIL_SHARE = 0.05
"""In `long-tail`, this share of the issues takes 6–16 hours; the rest 10–40 minutes."""
STREAM_SHARE = 1 / 3
STREAM_SPREAD = 0.3
"""In `p0-stream`, `STREAM_SHARE` of the issues are P0s appearing evenly over this share of the
backlog's estimated work spread over 8 slots."""


def _priority(rng: random.Random) -> str:
    draw = rng.random()
    for level, share in PRIORITY_SHARES:
        if draw < share:
            return level
        draw -= share
    return PRIORITY_SHARES[-1][0]


def generate(family: str, size: int, seed: int, *, sigma: float = 0.5, bias: Bias | None = None) -> Workload:
    """A backlog of `size` issues of one family; same arguments, same backlog.

    Estimates are log-normal around 45 minutes (in `long-tail`: uniform, 10–40 minutes or
    6–16 hours); the true duration is the estimate times a log-normal error of spread `sigma`
    (0.5: half of the tasks within -30%..+40%), times the `bias` factor if any
    (`p0-underestimated`: `LABEL_BIASED` unless given). The bias draws nothing at random: with
    and without it the backlogs are the same but for the true durations.
    """
    if family not in SHAPES:
        raise ValueError(f"unknown family {family!r}: one of {', '.join(FAMILIES + EXTRA_FAMILIES)}")
    rng = random.Random(f"{family}:{size}:{seed}:{sigma}")
    deps = SHAPES[family](rng, size)
    if family == "p0-underestimated" and bias is None:
        bias = LABEL_BIASED
    issues = []
    for position in range(size):
        if family == "long-tail":
            long = rng.random() < LONG_TAIL_SHARE
            estimate = rng.uniform(360.0, 960.0) if long else rng.uniform(10.0, 40.0)
        else:
            estimate = min(max(MEDIAN_ESTIMATE_MIN * math.exp(rng.gauss(0.0, ESTIMATE_SIGMA)), 5.0), 960.0)
        actual = estimate * math.exp(rng.gauss(0.0, sigma)) if sigma > 0 else estimate
        priority = _priority(rng)
        if bias is not None:
            actual *= bias.factor(priority, round(estimate, 1))
        issues.append(SimIssue(
            number=position + 1, priority=priority, estimate_min=round(estimate, 1), actual_min=round(actual, 1),
            depends_on=tuple(dep + 1 for dep in deps[position]), created=-round(rng.uniform(0, BACKLOG_AGE_MIN), 1),
        ))
    if family == "p0-stream":
        issues = _streamed(issues)
    meta = {"sigma": sigma, "bias": bias.describe()} if bias is not None else {"sigma": sigma}
    return Workload(tuple(issues), family=family, seed=seed, meta=meta)


def _streamed(issues: list[SimIssue]) -> list[SimIssue]:
    """Every third issue that nothing waits on and that waits on nothing becomes a P0 that
    appears later: one by one, evenly over the first `STREAM_SPREAD` of the run."""
    waited_on = {dep for issue in issues for dep in issue.depends_on}
    loose = [issue.number for issue in issues if issue.number not in waited_on and not issue.depends_on]
    late = loose[:: round(1 / STREAM_SHARE)]
    span = STREAM_SPREAD * sum(issue.estimate_min for issue in issues) / 8
    every = span / max(len(late), 1)
    at = {number: round(every * index, 1) for index, number in enumerate(late)}
    return [replace(issue, priority="P0", created=at[issue.number]) if issue.number in at else issue for issue in issues]
