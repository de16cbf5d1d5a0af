"""A discrete-event run of a workload: the real reducer and the real `plan()` on simulated minutes.

Nothing sleeps. At each moment something happens (sessions finish, issues appear), the
events are folded into the snapshot by `core.state.apply_all`, a `core.scheduler.Planner` decides
on a FakeClock's time, and the decided sessions start; each ends after its true duration.
An `earlier` workload is history: its issues finished (at their true durations) before the
start, so the scheduler can learn from them; they are not part of the schedule.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

from waterspider_tui.core import events as ev
from waterspider_tui.core.clock import FakeClock
from waterspider_tui.core.models import Issue, Outcome, SessionInfo, SessionResult
from waterspider_tui.core.scheduler import Planner, SchedulerConfig
from waterspider_tui.core.state import Snapshot, apply_all
from waterspider_tui.simulation.workload import SimIssue, Workload

REPO = "sim/backlog"
EARLIER_REPO = "sim/earlier"
START = 1_700_000_000.0
"""The FakeClock's time at minute 0."""


def issue_key(number: int, repo: str = REPO) -> str:
    return f"{repo}#{number}"


def sim_issue(sim: SimIssue, repo: str = REPO) -> Issue:
    return Issue(
        repo=repo, number=sim.number, title=f"issue {sim.number}", labels=(sim.priority,),
        depends_on=tuple(issue_key(dep, repo) for dep in sim.depends_on), estimate_min=sim.estimate_min,
        created=START + sim.created * 60,
    )


def _session(sim: SimIssue, now: float, repo: str = REPO) -> SessionInfo:
    key = issue_key(sim.number, repo)
    return SessionInfo(
        session_id=f"sim-{sim.number}", issue=key, attempt=1, executor="sim", host="sim",
        worktree="", branch="", log_path="", started_at=now,
    )


def history_events(earlier: Workload) -> list[ev.Event]:
    """Each earlier issue seen, started and finished after its true duration, one after another, ending before the start."""
    events: list[ev.Event] = []
    begin = START - 60.0 - sum(sim.actual_min for sim in earlier.issues) * 60
    for sim in earlier.issues:
        finish = begin + sim.actual_min * 60
        key = issue_key(sim.number, EARLIER_REPO)
        result = SessionResult(outcome=Outcome.SUCCEEDED, duration_s=sim.actual_min * 60)
        events += [
            ev.IssueSeen(ts=begin, issue_data=replace(sim_issue(sim, EARLIER_REPO), depends_on=(), created=begin)),
            ev.SessionStarted(ts=begin, issue=key, session=_session(sim, begin, EARLIER_REPO)),
            ev.SessionFinished(ts=finish, issue=key, session_id=f"sim-{sim.number}", result=result),
        ]
        begin = finish
    return events


@dataclass(frozen=True)
class Schedule:
    """When each issue started and ended, in minutes from the start."""

    workload: Workload
    slots: int
    policy: str
    start: dict[int, float]
    end: dict[int, float]
    plan_calls: int
    idle_while_ready: int
    """Moments a slot stayed free although a ready task was left waiting (should be 0)."""
    unscheduled: tuple[int, ...]
    """Issues that never ran (held in a dependency cycle)."""

    @property
    def makespan(self) -> float:
        return max(self.end.values(), default=0.0)


def simulate(workload: Workload, config: SchedulerConfig, policy: str = "", earlier: Workload | None = None) -> Schedule:
    """Run the whole workload to the end with `config.capacity` slots, after the `earlier` history if any."""
    clock = FakeClock(START)
    by_number = workload.by_number()
    arrivals = sorted((max(sim.created, 0.0), sim.number) for sim in workload.issues)
    running: list[tuple[float, int]] = []
    start: dict[int, float] = {}
    end: dict[int, float] = {}
    snapshot = apply_all(Snapshot(), history_events(earlier)) if earlier is not None else Snapshot()
    minute = 0.0
    plan_calls = idle = 0
    next_arrival = 0
    # simulated sessions open no pull requests: a dependency is done once it succeeded, and
    # nothing waits for a merge that never comes (a stack on two unmerged branches would)
    planner = Planner(replace(config, dependants_wait_for="merged"))
    while True:
        now = START + minute * 60
        clock.current = now
        events: list[ev.Event] = []
        while running and running[0][0] <= minute:
            _, number = heapq.heappop(running)
            end[number] = minute
            result = SessionResult(outcome=Outcome.SUCCEEDED, duration_s=by_number[number].actual_min * 60)
            events.append(ev.SessionFinished(ts=now, issue=issue_key(number), session_id=f"sim-{number}", result=result))
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= minute:
            events.append(ev.IssueSeen(ts=now, issue_data=sim_issue(by_number[arrivals[next_arrival][1]])))
            next_arrival += 1
        snapshot = apply_all(snapshot, events)
        decision = planner.plan(snapshot, clock.now())
        plan_calls += 1
        starts: list[ev.Event] = []
        for key in decision.dispatch:
            number = int(key.rpartition("#")[2])
            start[number] = minute
            heapq.heappush(running, (minute + by_number[number].actual_min, number))
            starts.append(ev.SessionStarted(ts=now, issue=key, session=_session(by_number[number], now)))
        snapshot = apply_all(snapshot, starts)
        if len(running) < config.capacity and len(decision.ready) > len(decision.dispatch):
            idle += 1
        upcoming = [moment for moment in (running[0][0] if running else None, arrivals[next_arrival][0] if next_arrival < len(arrivals) else None) if moment is not None]
        if not upcoming:
            break
        minute = min(upcoming)
    unscheduled = tuple(sorted(sim.number for sim in workload.issues if sim.number not in end))
    return Schedule(workload, config.capacity, policy, start, end, plan_calls, idle, unscheduled)
