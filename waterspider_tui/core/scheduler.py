"""Pure, deterministic scheduling: from a snapshot to ready, blocked and what to start now.

A `Planner` plans successive snapshots and keeps what it computed (graph figures, learned
estimates, scores, texts) for the next call; `plan()` plans one snapshot with a fresh one.

The default ordering (`ours`) was chosen by measuring candidates on generated backlogs with
`waterspider simulate` and `benchmarks/bench_scheduling.py` (figures, with the seeds behind
them, in benchmarks/README.md). It ranks a ready task by, in turn:

1. pinned by the operator;
2. a long pole overdue (shown as *on the critical path: ...; it goes before P0 work*): see 5;
3. bumped up by the operator, by score: a bump asks for the task sooner, so it passes P0 work
   too (a bumped-down P0 leaves P0 work and goes by its score);
4. "P0 work" (shown as *P0 first: #12 (P0) waits on it, done in 95m at the soonest*): a P0
   (`PriorityConfig.first_level`) and every task a P0 waits on, directly or not, for the P0
   that can be done soonest first (`schedule_structure.Urgent`: the longest chain of open
   work ending at the P0). While other work is ready, P0 work takes no more than
   `1 - other_share` of the slots (at least one slot stays with other work from two slots
   on): P0 work that keeps coming cannot starve the rest (shown on the P0 work that waits);
5. a long pole due (`core.long_poles`, shown as *on the critical path: a 540m chain, 900m of
   the run left; P0 work may hold it back 110m more*): its chain, its own estimate taken
   `pole_margin` times (estimates run over, and one that runs over late ends the run late), is
   `critical_share` of what is left of the run (the longest open chain, or the open work over
   the slots, less what running sessions have done), or the slots that free up later would
   come too late for it and the poles more urgent than it. When finished sessions (and running
   ones past their estimate) show estimates missing by far, the margin is their mean overrun
   exp(s²/2) for their spread s, up to `pole_margin_max` (`core.estimate_spread`; shown as
   *a 540m chain (its estimate ×1.47: estimates miss ×2.4)*). P0 work may hold a pole back
   until its chain as estimated is `pole_hold_share` of what is left; then it is overdue (2).
   Poles go most urgent first;
6. the rest by score per hour of work (Smith's rule: on one slot, the order that finishes the
   most weighted work soonest), the score (`priority.score_task`) being label weight, a
   shorter duration, the work it unblocks, age and bumps. The label weight is *inherited*: a
   task that a more important task waits on counts at `inherit_share` (0.7) of that task's
   weight. The duration is the estimate corrected by what finished sessions took against
   theirs, per priority level and size (`core.estimates`);
7. the longest-first level (P3s, unless a more important task waits on them), by score with
   the longest first: they end the run, and a run that ends on short tasks ends sooner.

Why (benchmarks/README.md: 300 backlogs of 50, 120 and 200 issues at sigma 0.5, 300 at 1.0):
with long poles chosen by their chain alone and put ahead of everything, the makespan p95 at
sigma 0.5 was 1.18× the lower bound (1.28 at 50 issues), the late runs ending on a long task
started mid-run that ran over, and P0s waited behind poles (P0 stretch p95 2.36 at 120
issues). The margin and the free-slot check bring that p95 to 1.14; P0 work ahead of poles
until they are overdue brings the P0 stretch p95 to 1.28–1.71; the score per hour pays for
the weighted completion that starting long work earlier costs (0.954 of label order, before
0.978). The run left counts what running sessions have done: a running chain used to count
whole, so poles were seen late. What is left: 50 independent issues, where a run is six tasks
a slot and no order gets both the makespan tail and label order's weighted completion (1.46
of it here), and sigma 1.0, where estimates say too little (even the longest chain first
leaves a p95 of 1.23–1.47).

The tails over 600 backlogs per size (both sigmas) show why the rest is out of reach: the runs
that end late are those where one issue took 4–24× its estimate, and a plain order that beat
`ours` had started it early by its age or label. Given the true durations, these rules end
within 1.042 of the lower bound on every backlog; the best of eight orders that know only the
estimates, picked per backlog after the fact, still has a p95 of 1.163 at 120 issues. Counting
a pole's estimate by how far estimates missed (the margin in 5, from `pole_margin_samples` 20
sessions on: a 50-issue run learning it from its first five had its sigma 1.0 p95 go from
1.296 to 1.575) brings the 120-issue median from 1.056 to 1.048 and the 200-issue p95 from
1.371 to 1.271, for weighted completion 0.96 → 0.98 of label order at 120 issues. P0 work
holding poles back is the cause on a few backlogs (a fan-out epic's join started 220 minutes
late): holding them only to half of the run left takes the backlogs more than 5% worse than
a plain order at sigma 0.5 from 7 to 5 of 300, but the P0 stretch p95 from 1.28 to 2.42, so
`pole_hold_share` stays 0.8.

Learned durations, measured on backlogs where P3s and long tasks run over (×1.5) with 200
earlier issues finished: in the score (and so its rate per hour) they move every figure by at
most 0.6%; in the long-pole figures too they cost weighted completion up to 4%, so that stays
off (`learned_long_poles`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from waterspider_tui.core.estimate_spread import SpreadTracker
from waterspider_tui.core.estimates import EstimateConfig, Estimates, Learner
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.long_poles import long_poles
from waterspider_tui.core.queue_verdicts import QueueVerdicts
from waterspider_tui.core.ordering import KeyMemo, Lanes, order_ours, order_plain
from waterspider_tui.core.priority import PartsMemo, PriorityConfig, Score, blend_score
from waterspider_tui.core.readiness import BlockedTask, DependantsWaitFor, Readiness, short_key
from waterspider_tui.core.schedule_structure import Analyser, Structure, Urgent
from waterspider_tui.core.state import Snapshot, TaskRecord
from waterspider_tui.core.tasks_by_state import TasksByState

__all__ = ["ORDERINGS", "BlockedTask", "Plan", "Planner", "ReadyTask", "SchedulerConfig", "plan", "short_key"]

ORDERINGS = ("ours", "seed", "priority", "fifo", "critical-path")
"""`ours` is the default (see the module docstring); the others are kept to compare against:
`seed` the seed's blended score with no jump and no inheritance, `priority` label weight then
age, `fifo` oldest first, `critical-path` longest remaining chain first."""


@dataclass(frozen=True)
class SchedulerConfig:
    capacity: int = 5
    """Sessions running at once, over all executors."""
    priority: PriorityConfig = field(default_factory=PriorityConfig)
    critical_share: float = 0.5
    """A ready task is a long pole (shown as "on the critical path") once its chain, with its
    own estimate taken `pole_margin` times, is this share of what is left of the run, or
    sooner when the slots that free up later would come too late (`core.long_poles`); 0 turns
    long poles off."""
    pole_margin: float = 1.15
    """How many times its own estimate a long pole's chain counts at least: one that runs over
    late ends the run late."""
    pole_margin_max: float = 1.65
    """How many times at most, once estimates have proven unreliable (`learn_pole_margin`)."""
    learn_pole_margin: bool = True
    """Count a long pole's estimate by how far estimates missed in finished (and overrunning)
    sessions, the mean overrun exp(s²/2) of their spread s (`core.estimate_spread`), between
    `pole_margin` and `pole_margin_max`."""
    pole_margin_samples: int = 20
    """Sessions (finished, or running past their estimate) it takes before the margin moves."""
    pole_hold_share: float = 0.8
    """P0 work goes before a long pole until the pole's chain (as estimated) is this share of
    what is left of the run; then the long pole goes first."""
    other_share: float = 0.125
    """While P0 work waits, other ready work keeps this share of the slots (at least one from
    two slots on), so P0 work that keeps coming cannot starve the rest; 0 turns it off."""
    ordering: str = "ours"
    """One of ORDERINGS."""
    learn_estimates: bool = True
    """Learn from finished sessions how far estimates run over (`core.estimates`) and rank by
    the learned durations in the time part of the score ("estimate 60m × 1.40 learned from ...")."""
    learned_long_poles: bool = False
    """Also use the learned durations for the long-pole figures (chains, the remaining lower
    bound). Measured: runs up to 1.3% shorter, but weighted completion up to 4% worse (6.8% on
    50 independent issues), so off (benchmarks/README.md)."""
    estimates: EstimateConfig = field(default_factory=EstimateConfig)
    """How much history it takes to move an estimate."""
    dependants_wait_for: DependantsWaitFor = "gate_passed"
    """When a dependant counts its blocker done: `merged` (its pull request) or `gate_passed` (stacked on its branch)."""

    def __post_init__(self) -> None:
        if self.ordering not in ORDERINGS:
            raise ValueError(f"scheduler ordering must be one of {', '.join(ORDERINGS)}, not {self.ordering!r}")
        if self.pole_margin < 1 or self.pole_margin_max < self.pole_margin:
            raise ValueError(f"scheduler pole_margin must be at least 1 and at most pole_margin_max, not {self.pole_margin!r}"
                             f" with pole_margin_max {self.pole_margin_max!r}")
        if self.pole_margin_samples < 1:
            raise ValueError(f"scheduler pole_margin_samples must be at least 1, not {self.pole_margin_samples!r}")
        for name in ("critical_share", "pole_hold_share", "other_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"scheduler {name} must be between 0 and 1, not {getattr(self, name)!r}")


@dataclass(frozen=True)
class ReadyTask:
    issue: str
    score: Score


@dataclass(frozen=True)
class Plan:
    ready: tuple[ReadyTask, ...]
    blocked: tuple[BlockedTask, ...]
    running: tuple[str, ...]
    dispatch: tuple[str, ...]
    """Ready tasks to start now, in order, filling free capacity."""
    unknown_refs: tuple[tuple[str, str], ...]
    """(task, reference) pairs naming issues nobody knows: warned about, not waited on."""
    cycles: tuple[tuple[str, ...], ...]
    free_slots: int

    def ready_keys(self) -> list[str]:
        return [item.issue for item in self.ready]


ScoreMemo = dict[str, tuple[TaskRecord, int, float, int, "Estimates | None", Score]]
FirstMemo = dict[str, tuple[Score, Urgent, Score]]
MEMO_KEPT = 200_000
"""Entries a planner's memo keeps; past this it starts again."""


class Planner:
    """Plans successive snapshots under one configuration, reusing what its earlier calls computed.

    `plan()` runs after every stored event on backlogs of up to 10,000 tasks; recomputing the
    graph figures, the learned estimates, the scores and the blocked texts every time made a
    run quadratic. A planner keeps them, each checked against the objects it came from (records
    of immutable snapshots), so `Planner(config).plan(snapshot, now)` gives the same plan
    whatever it planned before. The engine holds one; one caller at a time.
    """

    def __init__(self, config: SchedulerConfig | None = None) -> None:
        self._config = config or SchedulerConfig()
        priority = self._config.priority
        self._analyser = Analyser(priority)
        """The open task graph's figures, carried from call to call."""
        self._learner = Learner(priority, priority.default_estimate_min, self._config.estimates) if self._config.learn_estimates else None
        """Folds the finished tasks of successive snapshots."""
        self._spread = SpreadTracker(priority, self._config.pole_margin_samples) if self._config.learn_pole_margin else None
        """Folds how far the estimates of successive snapshots' finished tasks missed."""
        self._by_state = TasksByState()
        """The tasks by state, kept up to date from the records that change between plans."""
        self._verdicts = QueueVerdicts(Readiness(self._config.dependants_wait_for))
        """Each queued task's readiness verdict, kept while nothing it was judged on changed."""
        self._naturals: dict[str, tuple[str, int]] = {}
        """Each blocked task's place in the blocked list (repository, then number), by issue key."""
        self._scores: ScoreMemo = {}
        """The last score of each task with what it was computed from, by issue key."""
        self._firsts: FirstMemo = {}
        """The last score marked as P0 work of each task, with the score and figure it came from."""
        self._parts: PartsMemo = {}
        """The score parts that do not move with the clock, by issue object."""
        self._keys: KeyMemo = {}
        """Each ready task's sort key in `ours`, with the score it came from."""

    @property
    def config(self) -> SchedulerConfig:
        return self._config

    def plan(self, snapshot: Snapshot, now: float) -> Plan:
        """Decide the queues for this snapshot; never waits, never mutates the snapshot."""
        config = self._config
        priority = config.priority
        tasks = snapshot.tasks
        estimates: Estimates | None = None
        margin, margin_note = config.pole_margin, ""
        by_state = self._by_state
        changed = by_state.update(tasks)
        open_tasks, succeeded, running_tasks = by_state.open, by_state.succeeded, by_state.running
        if self._learner is not None:
            estimates = self._learner.observe(succeeded)
        if self._spread is not None:
            spread = self._spread.observe(succeeded, list(running_tasks.values()), now)
            if spread is not None:
                margin = spread.margin(config.pole_margin, config.pole_margin_max)
                if margin > config.pole_margin:
                    margin_note = f"its estimate ×{margin:.2f}: estimates miss ×{spread.typical_miss:.1f}"
        structure = self._analyser.analyse(open_tasks, estimates if config.learned_long_poles else None)
        ours = config.ordering == "ours"
        urgent = structure.urgent if ours else {}
        done = _work_done(running_tasks, structure, now)
        lower_bound = structure.remaining_lower_bound(config.capacity, done)

        ready_tasks: list[tuple[str, TaskRecord]] = []
        blocked: list[BlockedTask] = []
        unknown: list[tuple[str, str]] = []
        running = tuple(sorted(running_tasks))
        free = max(config.capacity - len(running), 0)
        in_cycle = structure.in_cycle
        verdicts = self._verdicts
        kept = verdicts.begin(tasks, in_cycle, changed)
        for key, task in by_state.queued.items():
            verdict = None if task.not_before else kept.get(key)
            blocker, unknown_here = verdict if verdict is not None else verdicts.judge(key, task, snapshot, in_cycle, now)
            if unknown_here:
                unknown.extend(unknown_here)
            if blocker:
                blocked.append(blocker)
            else:
                ready_tasks.append((key, task))
        poles = long_poles(
            (key for key, _ in ready_tasks), structure, lower_bound, done, running, free,
            share=config.critical_share, margin=margin, hold_share=config.pole_hold_share, margin_note=margin_note,
        ) if ours else {}
        ready: list[ReadyTask] = []
        scores, max_tail, build = self._scores, structure.max_tail, structure.build
        for key, task in ready_tasks:
            # the memo checked here, not in `_score`: this loop runs for every ready task after every event
            created = task.issue.created
            age = int((now - created) // 3600) if created and now > created else 0
            cached = scores.get(key)
            if (cached is not None and cached[0] is task and cached[1] == age and cached[2] == max_tail
                    and cached[3] == build and cached[4] is estimates):
                score = cached[5]
            else:
                score = self._score(key, task, age, structure, ours, estimates, now)
            pole = poles.get(key)
            if pole is not None:
                score = replace(score, critical=True, pole=pole.reason())
            work_for = urgent.get(key)
            if work_for is not None and score.bump == 0:
                score = self._first(key, score, work_for, priority.first_level, task.issue.repo)
            ready.append(ReadyTask(key, score))
        if ours:
            running_first = sum(1 for key in running if key in urgent)
            lanes = Lanes(
                structure, poles, priority.label_weights.get(priority.longest_first_level) if priority.longest_first_level else None,
                config.capacity, running_first, len(running) - running_first, config.other_share,
            )
            ready = order_ours(ready, tasks, lanes, self._keys)
        else:
            ready = order_plain(config.ordering, ready, tasks, structure)
        naturals = self._naturals
        if len(naturals) >= MEMO_KEPT:
            naturals.clear()
        for item in blocked:
            if item.issue not in naturals:
                naturals[item.issue] = _natural(item.issue)
        blocked.sort(key=lambda item: naturals[item.issue])
        paused = snapshot.dispatcher_paused and not (snapshot.paused_until and snapshot.paused_until <= now)
        dispatch = () if paused else tuple(item.issue for item in ready[:free])
        return Plan(tuple(ready), tuple(blocked), running, dispatch, tuple(sorted(unknown)), structure.cycles, free)

    def _score(
        self, key: str, task: TaskRecord, age: int, structure: Structure, ours: bool, estimates: Estimates | None, now: float,
    ) -> Score:
        """The task's business score, kept in the memo with what it came from: it is reused while
        the task, its graph figures, the learned estimates and its age in hours stay. `ours`:
        with inheritance and the longest-first level.

        After every event every ready task is scored; without the reuse a wide backlog made each
        run quadratic in its size.
        """
        max_tail = structure.max_tail
        priority = self._config.priority
        weight, level, estimate = self._analyser.basics(task.issue)
        learned = structure.learned.get(key) or (estimates.duration(level, estimate) if estimates is not None else None)
        score = blend_score(
            task.issue, task.overrides, weight=weight, level=level, estimate=estimate, now=now,
            downstream_min=structure.tail.get(key, 0.0), max_downstream_min=max_tail,
            unblocks=structure.out_degree.get(key, 0), config=priority,
            inherited=structure.inherited.get(key) if ours and priority.inherit_share > 0 else None, learned=learned,
            longest_first=ours and bool(level) and level == priority.longest_first_level, parts_memo=self._parts,
        )
        if len(self._scores) >= MEMO_KEPT:
            self._scores.clear()
        self._scores[key] = (task, age, max_tail, structure.build, estimates, score)
        return score

    def _first(self, key: str, score: Score, work_for: Urgent, level: str, repo: str) -> Score:
        """The score marked as P0 work, with what the operator reads beside it:
        'P0 first: #12 (P0) waits on it, done in 95m at the soonest'."""
        cached = self._firsts.get(key)
        if cached is not None and cached[0] is score and cached[1] == work_for:
            return cached[2]
        soonest = f"done in {work_for.minutes:.0f}m at the soonest"
        if work_for.issue == key:
            reason = f"{level} first: {soonest}"
        else:
            reason = f"{level} first: {short_key(work_for.issue, repo)} ({level}) waits on it, {soonest}"
        marked = replace(score, first=reason)
        if len(self._firsts) >= MEMO_KEPT:
            self._firsts.clear()
        self._firsts[key] = (score, work_for, marked)
        return marked


def plan(snapshot: Snapshot, now: float, config: SchedulerConfig | None = None) -> Plan:
    """Decide the queues for this snapshot with a fresh `Planner` (nothing reused: a caller
    that plans again and again holds a planner instead)."""
    return Planner(config).plan(snapshot, now)


def _work_done(running_tasks: Mapping[str, TaskRecord], structure: Structure, now: float) -> dict[str, float]:
    """Minutes of their estimates that running sessions have already spent (at most 90% each), by key.

    Comparisons instead of `min` and `max`: this runs for every running session on every plan,
    where the two calls were most of its cost."""
    durations = structure.durations
    done: dict[str, float] = {}
    for key, task in running_tasks.items():
        session = task.session
        if session is None:
            continue
        elapsed = now - session.started_at
        spent = (0.0 if 0.0 > elapsed else elapsed) / 60
        most = 0.9 * durations.get(key, 0.0)
        done[key] = most if most < spent else spent
    return done


def _natural(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)
