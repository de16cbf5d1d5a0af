"""Priority labels, estimates and the blended score with its parts."""

from __future__ import annotations

import pytest

from core_builders import T0, clock, issue
from waterspider_tui.core.models import Overrides
from waterspider_tui.core.priority import (
    PriorityConfig, estimate_minutes, label_weight, parse_duration_minutes, priority_level, score_task,
)

CONFIG = PriorityConfig()


@pytest.mark.parametrize(
    ("label", "weight"),
    [("P0-Critical", 1.0), ("P1-High", 0.7), ("P2-Medium", 0.4), ("P3-Low", 0.1)],
)
def test_seed_label_weights(label: str, weight: float) -> None:
    assert label_weight((label,), CONFIG) == (weight, label[:2])


@pytest.mark.parametrize(
    ("label", "level"),
    [
        ("P0", "P0"),
        ("P0-Critical", "P0"),
        ("priority:P0-Critical", "P0"),
        ("🔥 priority:P0-Critical", "P0"),
        ("🔥 P0-Critical", "P0"),
        ("p1-high", "P1"),
        ("Priority: P2", "P2"),
        ("priority/p3-low", "P3"),
        ("P2 Medium", "P2"),
    ],
)
def test_priority_label_forms(label: str, level: str) -> None:
    assert priority_level(label) == level


@pytest.mark.parametrize("label", ["bug", "P10", "Pending", "priority", "good first issue", "", "🔥"])
def test_labels_that_are_not_priorities(label: str) -> None:
    assert priority_level(label) is None


def test_unknown_label_gets_the_default_weight() -> None:
    assert label_weight(("bug", "enhancement"), CONFIG) == (0.25, "")
    assert label_weight((), CONFIG) == (0.25, "")
    # a level with no weight configured is as good as no label
    assert label_weight(("P7-Someday",), CONFIG) == (0.25, "")
    assert label_weight(("bug",), PriorityConfig(default_label_weight=0.05)) == (0.05, "")


def test_several_priority_labels_take_the_highest() -> None:
    assert label_weight(("P3-Low", "P0-Critical", "P2-Medium"), CONFIG) == (1.0, "P0")
    assert label_weight(("bug", "P2-Medium", "p1-high"), CONFIG) == (0.7, "P1")


def test_label_weights_are_configurable() -> None:
    config = PriorityConfig(label_weights={"P0": 0.2, "P3": 0.9})
    assert label_weight(("P0-Critical", "P3-Low"), config) == (0.9, "P3")
    assert label_weight(("P1-High",), config) == (config.default_label_weight, "")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90m", 90), ("2h", 120), ("1h30m", 90), ("1h 30m", 90), ("1.5h", 90), ("1d", 480), ("90", 90), ("45min", 45), ("2H", 120)],
)
def test_parse_duration(text: str, minutes: float) -> None:
    assert parse_duration_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "soon", "2 weeks", "h", "-5m"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    assert parse_duration_minutes(text) is None


def test_estimate_from_labels_and_body() -> None:
    assert estimate_minutes(issue(1, labels=["estimate:90m"])) == 90
    assert estimate_minutes(issue(1, labels=["bug", "estimate:2h"])) == 120
    assert estimate_minutes(issue(1, labels=["Estimate: 45m"])) == 45
    assert estimate_minutes(issue(1, body="Fix it.\n\nEstimate: 1h30m\n")) == 90
    assert estimate_minutes(issue(1, body="**Estimate:** 2h")) == 120
    assert estimate_minutes(issue(1, body="no estimate here")) is None
    assert estimate_minutes(issue(1, labels=["estimate:whenever"])) is None


def test_estimate_precedence_explicit_then_label_then_body() -> None:
    assert estimate_minutes(issue(1, estimate=30, labels=["estimate:2h"], body="Estimate: 3h")) == 30
    assert estimate_minutes(issue(1, labels=["estimate:2h"], body="Estimate: 3h")) == 120
    # an unreadable label does not hide a readable body line
    assert estimate_minutes(issue(1, labels=["estimate:soon"], body="Estimate: 3h")) == 180


def _score(item, overrides: Overrides = Overrides(), *, now: float | None = None, downstream: float = 0.0,
           max_downstream: float = 0.0, unblocks: int = 0, config: PriorityConfig = CONFIG):
    return score_task(
        item, overrides, now=clock().now() if now is None else now, downstream_min=downstream,
        max_downstream_min=max_downstream, unblocks=unblocks, config=config,
    )


def test_score_blends_label_time_deps_and_age_with_parts() -> None:
    now = clock(84 * 3600).now()
    score = _score(issue(1, labels=["P1-High"], estimate=120, created=T0), now=now, downstream=30, max_downstream=60, unblocks=2)
    # 0.5×0.7 + 0.2×(1 − 120/480) + 0.2×(30/60) + 0.1×(84h/168h)
    assert score.parts_dict() == {"label": 0.35, "time": 0.15, "deps": 0.1, "age": 0.05}
    assert score.total == pytest.approx(0.65)
    assert [part.name for part in score.parts] == ["label", "time", "deps", "age"]
    assert [part.weight for part in score.parts] == [0.5, 0.2, 0.2, 0.1]
    assert score.level == "P1"
    assert "unblocks 2" in score.parts[2].explanation
    assert "estimate 120m" in score.parts[1].explanation


def test_score_defaults_without_estimate_label_or_dependants() -> None:
    score = _score(issue(1), now=T0)
    # label 0.5×0.25, time 0.2×(1 − 60/480), deps 0, age 0 (created now)
    assert score.parts_dict() == {"label": 0.125, "time": 0.175, "deps": 0.0, "age": 0.0}
    assert score.total == pytest.approx(0.3)
    assert "(default)" in score.parts[1].explanation
    assert score.parts[0].explanation == "no priority label"


def test_score_time_part_is_zero_at_or_beyond_the_longest_estimate() -> None:
    assert _score(issue(1, estimate=480)).parts_dict()["time"] == 0.0
    assert _score(issue(1, estimate=5000)).parts_dict()["time"] == 0.0
    assert _score(issue(1, estimate=0.0)).parts_dict()["time"] == 0.2


def test_score_age_is_capped_and_unknown_creation_counts_as_new() -> None:
    old = _score(issue(1, created=T0 - 1000 * 3600), now=T0)
    assert old.parts_dict()["age"] == 0.1
    unknown = _score(issue(1, created=0.0), now=T0)
    assert unknown.parts_dict()["age"] == 0.0


def test_shorter_estimate_scores_higher_all_else_equal() -> None:
    short = _score(issue(1, estimate=30))
    long = _score(issue(2, estimate=300))
    assert short.total > long.total


def test_score_weights_are_configurable() -> None:
    config = PriorityConfig(weight_label=1.0, weight_time=0.0, weight_deps=0.0, weight_age=0.0)
    score = _score(issue(1, labels=["P2-Medium"], estimate=10), downstream=50, max_downstream=50, config=config)
    assert score.total == pytest.approx(0.4)
    config = PriorityConfig(weight_label=0.0, weight_time=0.0, weight_deps=1.0, weight_age=0.0)
    score = _score(issue(1, labels=["P0"]), downstream=20, max_downstream=80, config=config)
    assert score.total == pytest.approx(0.25)


def test_bumps_move_the_score_by_the_bump_step() -> None:
    base = _score(issue(1, labels=["P2"]))
    up = _score(issue(1, labels=["P2"]), Overrides(bump=2))
    down = _score(issue(1, labels=["P2"]), Overrides(bump=-1))
    assert up.total == pytest.approx(base.total + 0.2)
    assert down.total == pytest.approx(base.total - 0.1)
    assert up.bump == 2
    assert "bump +2" in up.explain()
    assert "bump -1" in down.explain()
    stepped = _score(issue(1, labels=["P2"]), Overrides(bump=1), config=PriorityConfig(bump_step=0.5))
    assert stepped.total == pytest.approx(base.total + 0.5)


def test_pin_is_carried_on_the_score_without_changing_the_total() -> None:
    plain = _score(issue(1))
    pinned = _score(issue(1), Overrides(pinned=True))
    assert pinned.pinned and not plain.pinned
    assert pinned.total == plain.total
    assert "pinned" in pinned.explain()
