"""The business score of a task: label, estimate, what it unblocks and age, with its parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from waterspider_tui.core.models import Issue, Overrides

if TYPE_CHECKING:
    from waterspider_tui.core.estimates import Learned

DEFAULT_LABEL_WEIGHTS: Mapping[str, float] = MappingProxyType({"P0": 1.0, "P1": 0.7, "P2": 0.4, "P3": 0.1})

_PRIORITY_LABEL = re.compile(r"^(?:priority\s*[:/_ -]\s*)?p(?P<level>\d)(?:\b|[-_ :]|$)", re.IGNORECASE)
_ESTIMATE_LABEL = re.compile(r"^(?:estimate|est|time)\s*[:=/ ]\s*(?P<value>.+)$", re.IGNORECASE)
_ESTIMATE_LINE = re.compile(r"^\s*(?:\*\*)?estimate(?:\*\*)?\s*:\s*(?:\*\*)?\s*(?P<value>[0-9][^\n]*)$", re.IGNORECASE | re.MULTILINE)
_DURATION = re.compile(r"^\s*(?:(?P<days>\d+(?:\.\d+)?)\s*d)?\s*(?:(?P<hours>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<minutes>\d+(?:\.\d+)?)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def priority_level(label: str) -> str | None:
    """`P0`..`P9` for a priority label, else None.

    The rule: leading symbols and spaces (emoji) are dropped, an optional `priority:` prefix
    (any of `: / _ -` or a space) is allowed, then `P<digit>` must start the rest,
    case-insensitive, followed by nothing or a separator. So `P0-Critical`, `P0`,
    `priority:P0`, `priority:p0-critical` and `🔥 P0-Critical` all mean P0.
    """
    stripped = re.sub(r"^[^A-Za-z0-9]+", "", label.strip())
    match = _PRIORITY_LABEL.match(stripped)
    return f"P{match.group('level')}" if match else None


def parse_duration_minutes(text: str) -> float | None:
    """Minutes in `90m`, `2h`, `1h30m`, `1.5h`, `1d` or a bare number of minutes; None if unreadable."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    match = _DURATION.match(text)
    if not match or not any(match.groupdict().values()):
        return None
    days, hours, minutes = (float(match.group(name) or 0) for name in ("days", "hours", "minutes"))
    return days * 8 * 60 + hours * 60 + minutes


def estimate_minutes(issue: Issue) -> float | None:
    """The issue's estimate: explicit, else an `estimate:` label, else an `Estimate:` body line."""
    if issue.estimate_min is not None:
        return issue.estimate_min
    for label in issue.labels:
        match = _ESTIMATE_LABEL.match(label.strip())
        if match:
            value = parse_duration_minutes(match.group("value"))
            if value is not None:
                return value
    match = _ESTIMATE_LINE.search(issue.body or "")
    if match:
        return parse_duration_minutes(match.group("value").strip().rstrip("*").strip())
    return None


@dataclass(frozen=True)
class PriorityConfig:
    """Weights of the score; each part is normalised to 0..1 before weighting."""

    weight_label: float = 0.5
    weight_time: float = 0.2
    weight_deps: float = 0.2
    weight_age: float = 0.1
    label_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LABEL_WEIGHTS))
    default_label_weight: float = 0.25
    """Weight of an issue with no priority label (or an unknown level)."""
    default_estimate_min: float = 60.0
    longest_estimate_min: float = 480.0
    """Estimates at or above this get no shortest-first credit."""
    age_horizon_h: float = 168.0
    """Age at which the age part reaches 1, so nothing starves."""
    bump_step: float = 0.1
    """How much one operator bump moves the score."""
    inherit_share: float = 0.7
    """A task that a higher-priority task waits on counts at this share of that task's label
    weight (never below its own): a P3 that a P0 waits on counts like a P1; 0 turns it off."""
    first_level: str = "P0"
    """Tasks of this level and the tasks they wait on go ahead of other work (`ours` ordering,
    below pins and long poles), the one that can be done soonest first; '' turns it off."""
    longest_first_level: str = "P3"
    """Tasks of this level go longest first in the time part (`ours` ordering): they end the
    run, and a run that ends on short tasks ends sooner; '' turns it off."""


def label_weight(labels: tuple[str, ...], config: PriorityConfig) -> tuple[float, str]:
    """The highest priority label's weight and the level it came from ('' if none)."""
    best: tuple[float, str] | None = None
    for label in labels:
        level = priority_level(label)
        if level is None or level not in config.label_weights:
            continue
        weight = config.label_weights[level]
        if best is None or weight > best[0]:
            best = (weight, level)
    return best if best else (config.default_label_weight, "")


@dataclass(frozen=True)
class ScorePart:
    name: str
    weight: float
    value: float
    explanation: str

    @property
    def contribution(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True)
class Score:
    """A task's score with its parts, so "why is this first?" has an answer."""

    total: float
    parts: tuple[ScorePart, ...]
    level: str = ""
    pinned: bool = False
    bump: int = 0
    critical: bool = False
    """On the critical path: a long pole due to start (`core.long_poles`)."""
    first: str = ""
    """Why it goes ahead of other work as P0 work ('P0 first: #12 (P0) can be done in 95m'), or ''."""
    pole: str = ""
    """Why it is on the critical path and how long P0 work may hold it back, or ''."""
    held: str = ""
    """Why it waits although it would go next (the share other work keeps while P0 work waits), or ''."""
    minutes: float = 0.0
    """The duration the time part used (learned, estimated or the default)."""

    def parts_dict(self) -> dict[str, float]:
        return {part.name: round(part.contribution, 4) for part in self.parts}

    def reasons(self) -> list[str]:
        """What ranks it apart from its score: bumps, pins, the critical path, P0 first, the share guard."""
        extras = [f"bump {self.bump:+d}"] if self.bump else []
        extras += ["pinned"] if self.pinned else []
        extras += [self.pole or "on the critical path"] if self.critical else []
        extras += [self.first] if self.first else []
        extras += [self.held] if self.held else []
        return extras

    def explain(self) -> str:
        text = "  ".join(f"{p.name} {p.weight:g}×{p.value:.2f} ({p.explanation})" for p in self.parts)
        extras = self.reasons()
        return text + ("  " + ", ".join(extras) if extras else "")


@dataclass(frozen=True)
class Inherited:
    """The most important open task that waits (directly or not) on this one."""

    weight: float
    level: str
    issue: str


def age_hours(issue: Issue, now: float) -> int:
    """Whole hours since the issue was opened (0 if unknown): age moves the score an hour at a time."""
    created = issue.created
    return int((now - created) // 3600) if created and now > created else 0


def score_task(
    issue: Issue,
    overrides: Overrides,
    *,
    now: float,
    downstream_min: float,
    max_downstream_min: float,
    unblocks: int,
    config: PriorityConfig,
    inherited: Inherited | None = None,
) -> Score:
    """Blend label, estimate (shorter first), downstream work and age into one score."""
    weight, level = label_weight(issue.labels, config)
    return blend_score(
        issue, overrides, weight=weight, level=level, estimate=estimate_minutes(issue), now=now,
        downstream_min=downstream_min, max_downstream_min=max_downstream_min, unblocks=unblocks,
        config=config, inherited=inherited,
    )


def blend_score(
    issue: Issue,
    overrides: Overrides,
    *,
    weight: float,
    level: str,
    estimate: float | None,
    now: float,
    downstream_min: float,
    max_downstream_min: float,
    unblocks: int,
    config: PriorityConfig,
    inherited: Inherited | None = None,
    learned: Learned | None = None,
    longest_first: bool = False,
    parts_memo: PartsMemo | None = None,
) -> Score:
    """`score_task` with the label weight and estimate already read (the scheduler caches them).

    With `learned` (`core.estimates`), the time part uses the learned duration and says where
    it came from. With `longest_first`, the time part favours the longer tasks instead. With
    `parts_memo`, the parts that do not move with the clock are kept there and reused.
    """
    label, time, deps = _static_parts(
        issue, weight, level, estimate, downstream_min, max_downstream_min, unblocks, config, inherited, learned, longest_first,
        parts_memo,
    )
    age_h = age_hours(issue, now)
    age = ScorePart("age", config.weight_age, min(age_h / config.age_horizon_h, 1.0), f"{age_h}h old")
    parts = (label, time, deps, age)
    total = sum(part.contribution for part in parts) + overrides.bump * config.bump_step
    minutes = learned.minutes if learned is not None else estimate if estimate is not None else config.default_estimate_min
    return Score(total=round(total, 6), parts=parts, level=level, pinned=overrides.pinned, bump=overrides.bump, minutes=minutes)


StaticParts = tuple[ScorePart, ScorePart, ScorePart]
PartsMemo = dict[int, tuple[tuple[object, ...], StaticParts]]
"""The label, time and deps parts of the last score of each issue object (by identity), with their inputs."""
PARTS_KEPT = 200_000


def _static_parts(
    issue: Issue, weight: float, level: str, estimate: float | None, downstream_min: float,
    max_downstream_min: float, unblocks: int, config: PriorityConfig, inherited: Inherited | None,
    learned: Learned | None = None, longest_first: bool = False, memo: PartsMemo | None = None,
) -> StaticParts:
    """The parts that do not move with the clock, reused from `memo` while their inputs stay the same.

    The scheduler scores every ready task after every event; building these texts was most
    of its time.
    """
    inputs = (issue, weight, level, estimate, downstream_min, max_downstream_min, unblocks, config, inherited, learned, longest_first)
    cached = memo.get(id(issue)) if memo is not None else None
    if cached is not None and all(a is b or a == b for a, b in zip(cached[0], inputs)):
        return cached[1]
    label_text = level or "no priority label"
    if inherited is not None and config.inherit_share * inherited.weight > weight:
        weight = config.inherit_share * inherited.weight
        repo, _, number = inherited.issue.rpartition("#")
        label_text += f", {inherited.level or 'unlabelled'} {'#' + number if repo == issue.repo else inherited.issue} waits on it"
    if learned is not None:
        effective, estimate_text = learned.minutes, learned.explain()
    else:
        effective = estimate if estimate is not None else config.default_estimate_min
        estimate_text = f"estimate {effective:g}m" + ("" if estimate is not None else " (default)")
    time_value = 1.0 - min(effective, config.longest_estimate_min) / config.longest_estimate_min
    if longest_first:
        time_value = 1.0 - time_value
        estimate_text += f", {level}s longest first"
    deps_value = downstream_min / max_downstream_min if max_downstream_min > 0 else 0.0
    parts = (
        ScorePart("label", config.weight_label, weight, label_text),
        ScorePart("time", config.weight_time, time_value, estimate_text),
        ScorePart("deps", config.weight_deps, deps_value, f"unblocks {unblocks}, {downstream_min:g}m of work waits on it"),
    )
    if memo is not None:
        if len(memo) >= PARTS_KEPT:
            memo.clear()
        memo[id(issue)] = (inputs, parts)
    return parts
