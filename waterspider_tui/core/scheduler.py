"""Pure, deterministic scheduling: from a snapshot to ready, blocked and what to start now.

The default ordering (`ours`) was chosen by measuring the candidates on generated backlogs
with `waterspider simulate` and `benchmarks/bench_scheduling.py` (figures in
benchmarks/README.md). It ranks a ready task by, in turn:

1. pinned by the operator;
2. "long pole" (shown as *on the critical path*): its own estimate plus the longest chain of
   work waiting on it is at least `critical_share` of what is left of the run (the longest
   open chain, or the open work spread over the slots, whichever is longer). Started late,
   such a task would finish after everything else and stretch the run, so it jumps the
   queue; among long poles the longest chain goes first;
3. bumped up by the operator, by score: a bump asks for the task sooner, so it passes P0
   work too (a bumped-down P0 leaves P0 work and goes by its score);
4. "P0 work" (shown as *P0 first: #12 (P0) waits on it, done in 95m at the soonest*): a P0
   (`PriorityConfig.first_level`) and every task a P0 waits on, directly or not, for the P0
   that can be done soonest first. How soon is the longest chain of open work ending at the
   P0 (`schedule_structure.Urgent`), so ready P0s go shortest first, and the blockers of a
   P0 start as early as a ready P0 of the same distance would;
5. the business score (`priority.score_task`): label weight, shorter durations first (P3s,
   `longest_first_level`, longest first: they end the run, and a run that ends on short
   tasks ends sooner), work it unblocks, age, bumps. The label weight is *inherited*: a task
   that a more important task waits on counts at `inherit_share` (0.7) of that task's
   weight. The duration is the estimate corrected by what finished sessions took against
   theirs, per priority level and size (`core.estimates`).

What the measurements showed (200 issues, 8 slots, estimate error sigma 0.5, medians). The
seed's blend without the jump starts long work too late: makespan 1.10–1.14× the lower bound.
The critical path alone keeps the makespan at 1.00–1.02×, but finishes weighted work 1.13–2.1×
later than plain label order. With the jump and the score alone (steps 1, 2, 5), `ours` got
1.02–1.05× the bound and 0.92–0.98× the weighted completion of label order, but a P0 stretch
of 1.51–1.91. Runs instrumented to see what started while a ready P0 waited: on
independent backlogs other P0s, in no shortest-first order (the age part, up to 0.1,
outweighs the time part between a 10 and a 100 minute task, 0.04), and short P1s whose time
and age parts beat the label gap of 0.15; on layered and epic backlogs the P0s became ready
180–260 minutes after they could have, because their blockers counted like P1s and queued
behind P1s and long poles. Steps 3–4 (P0 work ordered by how soon the P0 can be done) bring
the stretch to 1.15–1.39, with the P0s of independent backlogs as well off as with the slots
to themselves (1.23); ordering P0 work by the P0s' own estimates instead (2.80 on layered)
or by the shortest way from each blocker to a P0 (1.58) measured worse, and P0 work above
long poles gained little (1.31 on layered) for the makespan it gives up. P3s longest first
then took the makespan to 1.016–1.031× and the weighted completion to 0.91–0.99× (fewer
long poles need to jump), and met the makespan goal at 50 issues on backlog (1.049). What
is left: 50 independent issues, where no threshold of the jump gets both 1.05× the bound
and the weighted completion of label order, and sigma 1.0, where estimates say too little.

Learned durations, measured on backlogs where P3s and long tasks run over (×1.5) with 200
earlier issues finished: in the time part of the score they finish weighted work up to 1.3%
sooner, the makespan and P0 stretch within ±0.4%; with no bias or no history they change
less. In the long-pole figures too they cost weighted completion up to 3% and P0 stretch up
to 8.7% (layered), so that stays off (`learned_long_poles`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

from waterspider_tui.core.estimates import EstimateConfig, Estimates, Learner
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.priority import PartsMemo, PriorityConfig, Score, age_hours, blend_score
from waterspider_tui.core.readiness import BlockedTask, Readiness, short_key
from waterspider_tui.core.schedule_structure import Analyser, Structure, Urgent
from waterspider_tui.core.state import Snapshot, TaskRecord

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
    """A ready task whose remaining chain is at least this share of the remaining lower bound
    jumps the queue (shown as "on the critical path"); 0 turns it off."""
    ordering: str = "ours"
    """One of ORDERINGS."""
    learn_estimates: bool = True
    """Learn from finished sessions how far estimates run over (`core.estimates`) and rank by
    the learned durations in the time part of the score ("estimate 60m × 1.40 learned from ...")."""
    learned_long_poles: bool = False
    """Also use the learned durations for the long-pole figures (chains, the remaining lower
    bound). Measured: runs up to 3% shorter, but weighted completion and P0 stretch up to 5–6%
    worse in some families, so off (benchmarks/README.md)."""
    estimates: EstimateConfig = field(default_factory=EstimateConfig)
    """How much history it takes to move an estimate."""

    def __post_init__(self) -> None:
        if self.ordering not in ORDERINGS:
            raise ValueError(f"scheduler ordering must be one of {', '.join(ORDERINGS)}, not {self.ordering!r}")


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


_OPEN_STATES = (TaskState.QUEUED, TaskState.RUNNING)

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
        self._readiness = Readiness()
        self._scores: ScoreMemo = {}
        """The last score of each task with what it was computed from, by issue key."""
        self._firsts: FirstMemo = {}
        """The last score marked as P0 work of each task, with the score and figure it came from."""
        self._parts: PartsMemo = {}
        """The score parts that do not move with the clock, by issue object."""

    @property
    def config(self) -> SchedulerConfig:
        return self._config

    def plan(self, snapshot: Snapshot, now: float) -> Plan:
        """Decide the queues for this snapshot; never waits, never mutates the snapshot."""
        config = self._config
        priority = config.priority
        tasks = snapshot.tasks
        estimates: Estimates | None = None
        if self._learner is not None:
            open_tasks: dict[str, TaskRecord] = {}
            succeeded: dict[str, TaskRecord] = {}
            for key, task in tasks.items():
                if task.state in _OPEN_STATES:
                    open_tasks[key] = task
                elif task.state is TaskState.SUCCEEDED:
                    succeeded[key] = task
            estimates = self._learner.observe(succeeded)
        else:
            open_tasks = {key: task for key, task in tasks.items() if task.state in _OPEN_STATES}
        structure = self._analyser.analyse(open_tasks, estimates if config.learned_long_poles else None)
        ours = config.ordering == "ours"
        jump_share = config.critical_share if ours else 0.0
        urgent = structure.urgent if ours else {}
        lower_bound = structure.remaining_lower_bound(config.capacity, _work_done(open_tasks, structure, now))

        ready: list[ReadyTask] = []
        blocked: list[BlockedTask] = []
        unknown: list[tuple[str, str]] = []
        running = tuple(sorted(key for key, task in open_tasks.items() if task.state is TaskState.RUNNING))
        in_cycle = structure.in_cycle
        jump_at = jump_share * lower_bound if jump_share and lower_bound > 0 else None
        for key, task in open_tasks.items():
            if task.state is TaskState.RUNNING:
                continue
            # most tasks are plainly ready or plainly waiting: the full check only when it can say more
            plain = not (task.held_reason or task.overrides.paused or key in in_cycle or (task.not_before and task.not_before > now))
            blocker = None if plain and not task.deps else self._readiness.blocker(key, task, snapshot, in_cycle, now, unknown)
            if blocker:
                blocked.append(blocker)
                continue
            score = self._score(key, task, structure, ours, estimates, now)
            if jump_at is not None and structure.chain(key) >= jump_at:
                score = replace(score, critical=True)
            work_for = urgent.get(key)
            if work_for is not None and score.bump == 0:
                score = self._first(key, score, work_for, priority.first_level, task.issue.repo)
            ready.append(ReadyTask(key, score))
        order = _ORDER_KEYS[config.ordering]
        ready.sort(key=lambda item: order(item, tasks[item.issue], structure))
        blocked.sort(key=lambda item: _natural(item.issue))
        free = max(config.capacity - len(running), 0)
        paused = snapshot.dispatcher_paused and not (snapshot.paused_until and snapshot.paused_until <= now)
        dispatch = () if paused else tuple(item.issue for item in ready[:free])
        return Plan(tuple(ready), tuple(blocked), running, dispatch, tuple(sorted(unknown)), structure.cycles, free)

    def _score(self, key: str, task: TaskRecord, structure: Structure, ours: bool, estimates: Estimates | None, now: float) -> Score:
        """The task's business score; reused while the task, its graph figures, the learned
        estimates and its age in hours stay. `ours`: with inheritance and the longest-first level.

        After every event every ready task is scored; without the reuse a wide backlog made each
        run quadratic in its size.
        """
        age = age_hours(task.issue, now)
        max_tail = structure.max_tail
        cached = self._scores.get(key)
        if (cached is not None and cached[0] is task and cached[1] == age and cached[2] == max_tail
                and cached[3] == structure.build and cached[4] is estimates):
            return cached[5]
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


def _work_done(open_tasks: dict[str, TaskRecord], structure: Structure, now: float) -> float:
    """Minutes of their estimates that running sessions have already spent (at most 90% each)."""
    done = 0.0
    for key, task in open_tasks.items():
        if task.state is TaskState.RUNNING and task.session is not None:
            done += min(max(now - task.session.started_at, 0.0) / 60, 0.9 * structure.durations.get(key, 0.0))
    return done


def _ours(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    """Pinned; long poles, longest chain first; bumped up, by score; P0 work, for the P0 that can
    be done soonest first; the rest by score."""
    score = item.score
    chain = structure.chain(item.issue) if score.critical else 0.0
    if score.bump > 0:
        lane, soonest = 0, 0.0
    elif score.first:
        lane, soonest = 1, structure.urgent[item.issue].minutes
    else:
        lane, soonest = 2, 0.0
    return (not score.pinned, not score.critical, -chain, lane, soonest, -score.total, task.issue.created, task.issue.repo, task.issue.number)


def _seed(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    return (not item.score.pinned, -item.score.total, task.issue.created, task.issue.repo, task.issue.number)


def _priority(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    label = item.score.parts[0].value
    return (not item.score.pinned, -label, task.issue.created, task.issue.repo, task.issue.number)


def _fifo(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    return (not item.score.pinned, task.issue.created, task.issue.repo, task.issue.number)


def _critical_path(item: ReadyTask, task: TaskRecord, structure: Structure) -> tuple[object, ...]:
    return (not item.score.pinned, -structure.chain(item.issue), task.issue.created, task.issue.repo, task.issue.number)


_ORDER_KEYS = MappingProxyType({"ours": _ours, "seed": _seed, "priority": _priority, "fifo": _fifo, "critical-path": _critical_path})


def _natural(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)
