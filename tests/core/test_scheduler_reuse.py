"""A planner reuses the verdicts of queued tasks nothing changed for, and plans exactly as a fresh one does."""

from __future__ import annotations

import math
import random

import pytest
from core_builders import T0, finished, issue, key, session, snapshot
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Outcome
from waterspider_tui.core.queue_verdicts import QueueVerdicts
from waterspider_tui.core.readiness import BlockedTask, Readiness
from waterspider_tui.core.scheduler import Plan, Planner, SchedulerConfig, plan
from waterspider_tui.core.state import Snapshot, TaskRecord, apply_all
from waterspider_tui.core.tasks_by_state import TasksByState

ISSUES = 24


def figures(result: Plan) -> tuple[object, ...]:
    return (result.ready, result.blocked, result.dispatch, result.running, result.unknown_refs, result.cycles, result.free_slots)


def random_issue(rng: random.Random, number: int) -> object:
    """An issue waiting on up to three others, at times on one nobody knows (#90-#95, some of which appear later)."""
    deps: list[int] = rng.sample(range(1, ISSUES + 1), rng.randint(0, 3))
    if rng.random() < 0.15:
        deps.append(rng.randint(90, 95))
    return issue(number, labels=[rng.choice(["P0", "P1", "P2", "P3"])], estimate=rng.choice([None, 15, 60, 240]),
                 deps=[dep for dep in deps if dep != number], created=T0 - rng.randint(0, 48) * 3600)


def next_event(rng: random.Random, snap: Snapshot, current: Plan, now: float, started: dict[str, int]) -> ev.Event:
    """One of the things that happen to a backlog: starts (mostly what the plan said), ends, retries,
    holds, pauses, requeues, edits that change what an issue waits on, new issues, merges."""
    tasks = snap.tasks
    running = [name for name, task in tasks.items() if task.state.value == "running"]
    queued = [name for name, task in tasks.items() if task.state.value == "queued"]
    failed = [name for name, task in tasks.items() if task.state.value in ("failed", "cancelled")]
    number_of = {name: task.issue.number for name, task in tasks.items()}
    roll = rng.random()
    if roll < 0.25 and (current.dispatch or queued):
        name = current.dispatch[0] if current.dispatch and rng.random() < 0.8 else rng.choice(queued)
        started[name] = started.get(name, 0) + 1
        info = session(number_of[name], attempt=started[name])
        return ev.SessionStarted(ts=now, issue=name, session=info)
    if roll < 0.45 and running:
        name = rng.choice(running)
        outcome = rng.choice([Outcome.SUCCEEDED, Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELLED])
        return finished(number_of[name], outcome, ts=now, attempt=started[name])
    if roll < 0.52 and failed:
        return ev.RetryScheduled(ts=now, issue=rng.choice(failed), not_before=now + rng.choice([30.0, 600.0]), error_class="crashed")
    if roll < 0.56 and failed:
        return ev.IssueRequeued(ts=now, issue=rng.choice(failed), by="op")
    if roll < 0.62:
        return ev.IssueHeld(ts=now, issue=key(rng.randint(1, ISSUES)), reason=rng.choice(["", "untrusted label"]))
    if roll < 0.68:
        name = key(rng.randint(1, ISSUES))
        return ev.IssuePaused(ts=now, issue=name, by="op") if rng.random() < 0.5 else ev.IssueResumed(ts=now, issue=name, by="op")
    if roll < 0.78:
        return ev.IssueSeen(ts=now, issue_data=random_issue(rng, rng.randint(1, ISSUES)))  # edited: its dependencies may change
    if roll < 0.82:
        return ev.IssueSeen(ts=now, issue_data=issue(rng.randint(90, 95), labels=["P2"]))  # a reference nobody knew appears
    if roll < 0.86 and running:
        name = rng.choice(running)
        return ev.StepFinished(ts=now, issue=name, session_id=tasks[name].session.session_id, step="pull_request", ok=True,  # type: ignore[union-attr]
                               facts={"pr_url": f"https://example.invalid/pull/{number_of[name]}"})
    if roll < 0.9:
        return ev.PullRequestMerged(ts=now, issue=key(rng.randint(1, ISSUES)), number=1)
    if roll < 0.93:
        return ev.IssueGone(ts=now, issue=key(rng.randint(1, ISSUES)), reason="closed")
    if roll < 0.96:
        return ev.PriorityBumped(ts=now, issue=key(rng.randint(1, ISSUES)), delta=rng.choice([-1, 1]), by="op")
    return ev.DispatcherPaused(ts=now, by="op") if not snap.dispatcher_paused else ev.DispatcherResumed(ts=now, by="op")


@pytest.mark.parametrize("wait_for", ["gate_passed", "merged"])
@pytest.mark.parametrize("seed", range(3))
def test_a_kept_planner_plans_as_a_fresh_one_through_a_random_run(seed: int, wait_for: str) -> None:
    rng = random.Random(seed)
    snap = snapshot(*(random_issue(rng, number) for number in range(1, ISSUES + 1)))
    config = SchedulerConfig(capacity=4, dependants_wait_for=wait_for, pole_margin_samples=3)  # type: ignore[arg-type]
    kept = Planner(config)
    now = T0
    started: dict[str, int] = {}
    current = kept.plan(snap, now)
    for step in range(100):
        snap = apply_all(snap, [next_event(rng, snap, current, now, started)])
        now += rng.choice([0.0, 5.0, 60.0, 700.0])  # a backoff of 30 s or 600 s runs out sometimes, not always
        current = kept.plan(snap, now)
        assert figures(current) == figures(plan(snap, now, config)), f"seed {seed}, step {step}"


def by_state_afresh(tasks: object) -> dict[str, list[tuple[str, TaskRecord]]]:
    items = list(tasks.items())  # type: ignore[attr-defined]
    return {
        "queued": [(name, task) for name, task in items if task.state.value == "queued"],
        "running": [(name, task) for name, task in items if task.state.value == "running"],
        "open": [(name, task) for name, task in items if task.state.value in ("queued", "running")],
        "succeeded": [(name, task) for name, task in items if task.state.value == "succeeded"],
    }


@pytest.mark.parametrize("seed", range(3))
def test_the_tasks_by_state_kept_up_to_date_are_those_of_the_snapshot_in_its_order(seed: int) -> None:
    rng = random.Random(seed)
    snap = snapshot(*(random_issue(rng, number) for number in range(1, ISSUES + 1)))
    by_state, planner = TasksByState(), Planner(SchedulerConfig(capacity=6))
    now, started = T0, {}
    for _ in range(200):
        changed = by_state.update(snap.tasks)
        kept = {name: list(getattr(by_state, name).items()) for name in ("queued", "running", "open", "succeeded")}
        assert kept == by_state_afresh(snap.tasks)
        current = planner.plan(snap, now)
        event = next_event(rng, snap, current, now, started)
        before, snap = snap, apply_all(snap, [event])
        assert sorted(by_state.update(snap.tasks)) == sorted(name for name, task in snap.tasks.items() if before.tasks.get(name) is not task)
        now += 60.0
    fewer = dict(list(snap.tasks.items())[1:])  # a snapshot that lost a task: every group afresh
    assert by_state.update(fewer) == [next(iter(snap.tasks))]
    assert {name: list(getattr(by_state, name).items()) for name in ("queued", "running", "open", "succeeded")} == by_state_afresh(fewer)


class CountingReadiness(Readiness):
    """Readiness that counts the tasks it judged."""

    def __init__(self) -> None:
        super().__init__("gate_passed")
        self.judged: list[str] = []

    def blocker(self, key: str, task: TaskRecord, snapshot: Snapshot, in_cycle: dict[str, tuple[str, ...]], now: float,
                unknown: list[tuple[str, str]]) -> BlockedTask | None:
        self.judged.append(key)
        return super().blocker(key, task, snapshot, in_cycle, now, unknown)


NO_CYCLES: dict[str, tuple[str, ...]] = {}
"""The cycles of every snapshot here (none), one object: a new one means the cycles changed."""


def judge_all(verdicts: QueueVerdicts, snap: Snapshot, now: float, in_cycle: dict[str, tuple[str, ...]] = NO_CYCLES) -> dict[str, object]:
    verdicts.begin(snap.tasks, in_cycle)
    return {name: verdicts.judge(name, task, snap, in_cycle, now) for name, task in snap.tasks.items() if task.state.value == "queued"}


def test_only_the_changed_tasks_and_what_waits_on_them_are_judged_again() -> None:
    readiness = CountingReadiness()
    verdicts = QueueVerdicts(readiness)
    snap = snapshot(issue(1), issue(2, deps=[1]), issue(3, deps=[2]), issue(4, deps=[5]), issue(5), issue(6, deps=[99]))
    first = judge_all(verdicts, snap, T0)
    assert sorted(readiness.judged) == [key(2), key(3), key(4), key(6)]  # with no dependency a task is plainly ready
    assert first[key(6)] == (None, ((key(6), key(99)),))

    readiness.judged.clear()
    snap = apply_all(snap, [ev.SessionStarted(ts=T0, issue=key(1), session=session(1)), finished(1, ts=T0 + 60)])
    second = judge_all(verdicts, snap, T0 + 60)
    assert readiness.judged == [key(2)]  # #1 left the queue; #2 waits on it; #3 waits on #2, whose record stayed
    assert second[key(2)] == (None, ())
    assert second[key(3)] is first[key(3)] and second[key(4)] is first[key(4)]

    readiness.judged.clear()
    snap = apply_all(snap, [ev.IssueSeen(ts=T0, issue_data=issue(4))])  # #4 no longer waits on #5
    judge_all(verdicts, snap, T0 + 60)
    assert readiness.judged == []  # judged again, and plainly ready without a dependency
    readiness.judged.clear()
    snap = apply_all(snap, [ev.IssuePaused(ts=T0, issue=key(5), by="op")])
    assert judge_all(verdicts, snap, T0 + 60)[key(5)][0] is not None
    assert readiness.judged == [key(5)]  # #4 stopped naming #5: not judged again for it


def test_a_retry_waiting_out_its_backoff_is_judged_on_every_plan() -> None:
    readiness = CountingReadiness()
    verdicts = QueueVerdicts(readiness)
    snap = snapshot(issue(1), events=[
        ev.SessionStarted(ts=T0, issue=key(1), session=session(1)), finished(1, Outcome.FAILED, ts=T0),
        ev.RetryScheduled(ts=T0, issue=key(1), not_before=T0 + 600, error_class="crashed"),
    ])
    waiting = judge_all(verdicts, snap, T0 + 60)[key(1)][0]
    assert isinstance(waiting, BlockedTask) and waiting.detail == "retry after backoff (540s)"
    assert judge_all(verdicts, snap, T0 + 300)[key(1)][0].detail == "retry after backoff (300s)"  # type: ignore[union-attr]
    assert judge_all(verdicts, snap, T0 + 601)[key(1)] == (None, ())


def test_a_new_cycle_judges_every_task_again() -> None:
    readiness = CountingReadiness()
    verdicts = QueueVerdicts(readiness)
    snap = snapshot(issue(1, deps=[2]), issue(2), issue(3, deps=[2]))
    judge_all(verdicts, snap, T0)
    readiness.judged.clear()
    verdicts.begin(snap.tasks, {})  # the same cycles, as a new object: nothing is assumed to hold
    verdicts.judge(key(3), snap.tasks[key(3)], snap, {}, T0)
    assert readiness.judged == [key(3)]


@pytest.mark.parametrize("seconds", [0.0, 899.0, 899.9995, 900.0, 900.0001, 901.0, 5400.0])
def test_a_running_session_counts_as_past_its_estimate_exactly_when_it_is(seconds: float) -> None:
    """The spread looks closer at a running session only near the end of its estimate; what it counts
    is what the formula says, on both sides of that end, for a kept tracker and a fresh one."""
    from waterspider_tui.core.estimate_spread import MAX_RATIO, SpreadTracker
    from waterspider_tui.core.priority import PriorityConfig

    snap = snapshot(issue(1, estimate=15), issue(2), events=[ev.SessionStarted(ts=T0, issue=key(number), session=session(number)) for number in (1, 2)])
    running = [snap.tasks[key(1)], snap.tasks[key(2)]]  # #2 has no estimate: it never counts
    kept = SpreadTracker(PriorityConfig(), min_samples=1)
    kept.observe({}, running, T0)
    ratio = (T0 + seconds - T0) / 60 / 15  # the formula: what it ran over its estimate, log-clipped
    expected = math.sqrt(min(max(math.log(ratio), -math.log(MAX_RATIO)), math.log(MAX_RATIO)) ** 2) if ratio > 1 else None
    for tracker in (kept, SpreadTracker(PriorityConfig(), min_samples=1)):
        spread = tracker.observe({}, running, T0 + seconds)
        assert (spread.log_spread if spread is not None else None) == expected


def started_now_with_every_slot(poles: list[tuple[float, float]], waits: list[float], free: int, filler: float) -> int:
    """`long_poles._started_now` as it was: every slot in the heap (the reference the short heap must equal)."""
    import heapq

    for count in range(min(free, len(poles)) + 1):
        slots = [*waits, *(minutes for _, minutes in poles[:count]), *([filler] * (free - count))]
        heapq.heapify(slots)
        for slack, minutes in poles[count:]:
            at = heapq.heappop(slots)
            if at > slack:
                break
            heapq.heappush(slots, at + minutes)
        else:
            return count
    return min(free, len(poles))


def test_the_poles_started_now_are_those_the_heap_of_every_slot_gives() -> None:
    from waterspider_tui.core.long_poles import _started_now

    rng = random.Random(7)
    for _ in range(3000):
        waits = sorted(rng.choice([0.0, 5.0, 30.0, rng.uniform(0, 300)]) for _ in range(rng.randint(0, 12)))
        free = rng.randint(0 if waits else 1, 8)
        poles = sorted((rng.uniform(-30, 200), rng.choice([5.0, 30.0, rng.uniform(1, 240)])) for _ in range(rng.randint(1, 10)))
        filler = rng.choice([5.0, 60.0])
        assert _started_now(poles, waits, free, filler) == started_now_with_every_slot(poles, waits, free, filler)
