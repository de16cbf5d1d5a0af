"""Estimates learned from finished sessions: the numbers, the learner's folding, and what the scheduler does with them."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from core_builders import T0, issue, key, snapshot, started
from waterspider_tui.core import events as ev
from waterspider_tui.core.estimates import EstimateConfig, Learner, Sample, learn, nothing_learned, sample_of
from waterspider_tui.core.models import Outcome, SessionResult
from waterspider_tui.core.priority import PriorityConfig
from waterspider_tui.core.scheduler import SchedulerConfig, plan
from waterspider_tui.core.state import Snapshot, apply_all

DEFAULT = 60.0
"""The configured duration of an issue with no estimate."""


def samples(count: int, ratio: float, *, level: str = "P2", estimate: float = 60.0) -> list[Sample]:
    return [Sample(level, estimate, estimate * ratio) for _ in range(count)]


def test_below_the_minimum_nothing_is_learned() -> None:
    learned = learn(samples(4, 3.0), DEFAULT)
    assert learned.duration("P2", 60.0) == learn([], DEFAULT).duration("P2", 60.0)
    assert learned.duration("P2", 60.0).minutes == 60.0
    assert learned.duration("P2", 60.0).explain() == "estimate 60m"
    assert learned.duration("P2", None).minutes == DEFAULT
    assert learned.duration("P2", None).explain() == "estimate 60m (default)"


def test_one_group_moves_only_the_overall_factor_shrunk_toward_one() -> None:
    # 10 issues that took twice their estimate: log-mean ln 2 × 10 / (10 + 5 prior samples)
    learned = learn(samples(10, 2.0), DEFAULT)
    assert learned.overall.factor == pytest.approx(2 ** (10 / 15), abs=1e-3)
    assert learned.levels["P2"].factor == 1.0 and learned.sizes["medium"].factor == 1.0  # nothing outside to tell them apart
    duration = learned.duration("P2", 60.0)
    assert duration.minutes == pytest.approx(60 * 2 ** (2 / 3), abs=0.1)
    assert duration.explain() == "estimate 60m × 1.59 learned from 10 finished issues"


def test_a_handful_of_samples_cannot_swing_it() -> None:
    five = learn(samples(5, 3.0), DEFAULT).duration("P2", 60.0).factor
    fifty = learn(samples(50, 3.0), DEFAULT).duration("P2", 60.0).factor
    assert five == pytest.approx(3 ** 0.5, abs=1e-3)  # half way in log space
    assert fifty == pytest.approx(3 ** (50 / 55), abs=1e-3)


def test_a_level_effect_on_top_of_the_overall_one() -> None:
    history = samples(10, 1.0, level="P1") + samples(10, 2.0, level="P3")
    learned = learn(history, DEFAULT)
    overall = 10 * math.log(2) / 25
    assert learned.overall.factor == pytest.approx(math.exp(overall), abs=1e-3)
    p3 = 10 * (math.log(2) - overall) / 15
    p1 = 10 * (0.0 - overall) / 15
    assert learned.levels["P3"].factor == pytest.approx(math.exp(p3), abs=1e-3)
    assert learned.levels["P1"].factor == pytest.approx(math.exp(p1), abs=1e-3)
    duration = learned.duration("P3", 60.0)
    assert duration.factor == pytest.approx(math.exp(overall + p3), rel=1e-3)
    assert duration.explain() == (
        f"estimate 60m × {duration.factor:.2f} learned from 20 finished issues (× {math.exp(overall):.2f}), "
        f"10 finished P3 issues (× {math.exp(p3):.2f})"
    )
    # a level with no history of its own gets the overall factor
    assert learned.duration("P0", 60.0).factor == pytest.approx(math.exp(overall), abs=1e-3)


def test_a_size_effect_on_what_the_levels_leave() -> None:
    history = samples(10, 1.0, estimate=60.0) + samples(10, 2.0, estimate=240.0)
    learned = learn(history, DEFAULT)
    overall = 10 * math.log(2) / 25
    large = 10 * (math.log(2) - overall) / 15
    assert learned.sizes["large"].factor == pytest.approx(math.exp(large), abs=1e-3)
    assert learned.duration("P2", 300.0).minutes == pytest.approx(300 * math.exp(overall + large), rel=1e-3)
    assert learned.duration("P2", 10.0).factor == pytest.approx(math.exp(overall), abs=1e-3)  # no small history


def test_a_group_below_the_minimum_gets_no_effect_of_its_own() -> None:
    history = samples(20, 1.0, level="P1") + samples(4, 3.0, level="P0")
    learned = learn(history, DEFAULT)
    assert learned.levels["P0"].factor == 1.0 and learned.levels["P0"].samples == 4
    assert learned.duration("P0", 60.0).factor == learned.overall.factor


def test_outliers_are_clipped_to_four_times() -> None:
    assert learn(samples(10, 100.0), DEFAULT).overall == learn(samples(10, 4.0), DEFAULT).overall
    assert learn(samples(10, 0.001), DEFAULT).overall == learn(samples(10, 0.25), DEFAULT).overall


def test_issues_without_an_estimate_get_the_typical_duration_of_finished_ones() -> None:
    without = [Sample("P2", None, 120.0)] * 6
    learned = learn(without, DEFAULT)
    expected = math.exp((6 * math.log(120) + 5 * math.log(DEFAULT)) / 11)
    default = learned.duration("P1", None)
    assert default.minutes == pytest.approx(expected, abs=0.1)
    assert default.explain() == f"no estimate: {default.minutes:g}m, typical of 6 finished issues without an estimate"
    # too few without an estimate: all finished issues, whatever their estimate
    mixed = learn(without[:2] + samples(4, 1.0, estimate=30.0), DEFAULT)
    expected = math.exp((2 * math.log(120) + 4 * math.log(30) + 5 * math.log(DEFAULT)) / 11)
    assert mixed.duration("P1", None).minutes == pytest.approx(expected, abs=0.1)
    assert mixed.duration("P1", None).explain().endswith("typical of 6 finished issues")
    # too few at all: the configured default
    assert learn(without[:4], DEFAULT).duration("P1", None) == nothing_learned(DEFAULT).default


def finished_at(number: int, minutes: float, ts: float, outcome: Outcome = Outcome.SUCCEEDED) -> list[ev.Event]:
    return [
        started(number, ts=ts - minutes * 60),
        ev.SessionFinished(ts=ts, issue=key(number), session_id=f"s-{number}-1",
                           result=SessionResult(outcome=outcome, duration_s=minutes * 60)),
    ]


def history(count: int, *, ratio: float, estimate: float = 60.0, labels: tuple[str, ...] = ("P2",), first: int = 1) -> Snapshot:
    issues = [issue(number, labels=labels, estimate=estimate) for number in range(first, first + count)]
    events = [event for offset, item in enumerate(issues) for event in finished_at(item.number, estimate * ratio, T0 + offset)]
    return snapshot(*issues, events=events)


def test_only_succeeded_sessions_with_a_duration_are_samples() -> None:
    snap = snapshot(
        issue(1, labels=["P1"], estimate=30), issue(2, estimate=30), issue(3), issue(4),
        events=[*finished_at(1, 45, T0), *finished_at(2, 45, T0, Outcome.FAILED), *finished_at(3, 0, T0)],
    )
    priority = PriorityConfig()
    assert sample_of(snap.tasks[key(1)], priority) == Sample("P1", 30.0, 45.0)
    assert sample_of(snap.tasks[key(2)], priority) is None  # failed
    assert sample_of(snap.tasks[key(3)], priority) is None  # no duration
    assert sample_of(snap.tasks[key(4)], priority) is None  # never ran


def succeeded_tasks(snap: Snapshot) -> dict[str, object]:
    return {k: task for k, task in snap.tasks.items() if task.state.value == "succeeded"}


def test_the_learner_refits_at_checkpoints_and_agrees_with_a_fresh_one() -> None:
    priority = PriorityConfig()
    learner = Learner(priority, DEFAULT)
    snap = history(30, ratio=2.0)
    refits = []
    for count in range(1, 31):
        partial = {k: t for k, t in succeeded_tasks(snap).items() if int(k.rpartition("#")[2]) <= count}
        learner.observe(partial)  # type: ignore[arg-type]
        refits.append(learner.refits)
    # checkpoints 5, 10, 20: the count of samples doubles before a refit
    assert [count for count in range(1, 31) if refits[count - 1] != (refits[count - 2] if count > 1 else 0)] == [5, 10, 20]
    fresh = Learner(priority, DEFAULT)
    assert fresh.observe(succeeded_tasks(snap)) == learner.estimates  # type: ignore[arg-type]
    assert learner.estimates == learn([Sample("P2", 60.0, 120.0)] * 20, DEFAULT)


def test_the_learner_follows_an_edited_or_vanished_record() -> None:
    priority = PriorityConfig()
    learner = Learner(priority, DEFAULT, EstimateConfig(checkpoint_growth=1.0))
    snap = history(10, ratio=2.0)
    before = learner.observe(succeeded_tasks(snap))  # type: ignore[arg-type]
    assert before.levels["P2"].samples == 10
    relabelled = apply_all(snap, [ev.IssueSeen(ts=T0 + 99, issue_data=replace(snap.tasks[key(1)].issue, labels=("P0",)))])
    after = learner.observe(succeeded_tasks(relabelled))  # type: ignore[arg-type]
    assert after.levels["P2"].samples == 9 and after.levels["P0"].samples == 1
    fewer = {k: t for k, t in succeeded_tasks(relabelled).items() if k != key(2)}
    assert learner.observe(fewer).overall.samples == 9  # type: ignore[arg-type]


NOW = T0 + 3600


def test_learned_durations_reorder_the_time_part_of_the_score() -> None:
    # small issues here take four times their estimate, medium ones what they said (20 samples: a checkpoint)
    past = apply_all(history(10, ratio=4.0, estimate=20.0, first=1000), [
        event for offset, item in enumerate(issue(n, labels=["P2"], estimate=60.0) for n in range(2000, 2010))
        for event in [ev.IssueSeen(ts=T0, issue_data=item), *finished_at(item.number, 60.0, T0 + 100 + offset)]
    ])
    snap = apply_all(past, [ev.IssueSeen(ts=T0, issue_data=issue(1, labels=["P2"], estimate=20.0)),
                            ev.IssueSeen(ts=T0, issue_data=issue(2, labels=["P2"], estimate=45.0))])
    # the time part alone: no long-pole jump
    assert plan(snap, NOW, SchedulerConfig(critical_share=0, learn_estimates=False)).ready_keys() == [key(1), key(2)]
    learned = plan(snap, NOW, SchedulerConfig(critical_share=0))
    assert learned.ready_keys() == [key(2), key(1)]
    overall = 10 * math.log(4) / 25
    small = 10 * (math.log(4) - overall) / 15
    time_part = learned.ready[1].score.parts[1]
    assert time_part.explanation == (
        f"estimate 20m × {math.exp(overall + small):.2f} learned from 20 finished issues (× {math.exp(overall):.2f}), "
        f"10 finished small issues (× {math.exp(small):.2f})"
    )
    assert time_part.value == pytest.approx(1 - 20 * math.exp(overall + small) / 480, abs=1e-3)


def test_learned_durations_can_make_a_long_pole_when_asked() -> None:
    # large issues take three times their estimate, small ones what they said
    past = apply_all(history(10, ratio=3.0, estimate=150.0, first=1000), [
        event for offset, item in enumerate(issue(n, labels=["P2"], estimate=20.0) for n in range(2000, 2010))
        for event in [ev.IssueSeen(ts=T0, issue_data=item), *finished_at(item.number, 20.0, T0 + 100 + offset)]
    ])
    backlog = [issue(1, labels=["P3"], estimate=120.0)] + [issue(n, labels=["P1"], estimate=20.0) for n in range(2, 22)]
    snap = apply_all(past, [ev.IssueSeen(ts=T0, issue_data=item) for item in backlog])
    # estimates as given: 120m against a bound of (120 + 400) / 2 slots = 260m is no long pole
    # (no margin on its own estimate here: the learned figures are what is measured)
    assert plan(snap, NOW, SchedulerConfig(capacity=2, pole_margin=1.0, learn_pole_margin=False)).ready_keys()[0] != key(1)
    poles = plan(snap, NOW, SchedulerConfig(capacity=2, pole_margin=1.0, learn_pole_margin=False, learned_long_poles=True))
    assert poles.ready_keys()[0] == key(1) and poles.ready[0].score.critical


def test_new_estimates_on_a_cached_structure_give_the_figures_of_a_fresh_build() -> None:
    from waterspider_tui.core import schedule_structure

    backlog = [issue(1, labels=["P3"], estimate=150.0), issue(2, deps=[1], labels=["P1"], estimate=20.0),
               issue(3, deps=[2], labels=["P0"], estimate=45.0), issue(4, labels=["P2"], estimate=90.0), issue(5, deps=[4])]
    open_tasks = dict(snapshot(*backlog).tasks)
    priority = PriorityConfig()
    estimates = learn(samples(10, 1.0, estimate=20.0) + samples(10, 3.0, level="P3", estimate=150.0), DEFAULT)
    analyser = schedule_structure.Analyser(priority)
    first = analyser.analyse(open_tasks)
    without_4 = {k: t for k, t in open_tasks.items() if k != key(4)}
    carried = analyser.analyse(without_4, estimates)
    fresh = schedule_structure.Analyser(priority).analyse(without_4, estimates)
    assert carried.order == first.order != fresh.order and carried.estimates is fresh.estimates
    assert carried.durations == fresh.durations and carried.learned == fresh.learned
    assert {k: carried.tail[k] for k in without_4 if k in carried.tail} == fresh.tail
    assert carried.remaining_lower_bound(2) == fresh.remaining_lower_bound(2)
    chain = sum(estimates.duration(level, minutes).minutes for level, minutes in (("P3", 150.0), ("P1", 20.0), ("P0", 45.0)))
    assert carried.chain(key(1)) == fresh.chain(key(1)) == pytest.approx(chain)
