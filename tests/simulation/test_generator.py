"""The workload generator: same seed same backlog, the shapes each family promises, the priority mix."""

from __future__ import annotations

import pytest

from waterspider_tui.simulation.generator import FAMILIES, generate
from waterspider_tui.simulation.metrics import bounds


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_backlog_and_every_dependency_is_known(family: str) -> None:
    first = generate(family, 120, seed=3)
    assert first == generate(family, 120, seed=3)
    assert first != generate(family, 120, seed=4)
    numbers = {issue.number for issue in first.issues}
    assert len(numbers) == 120
    assert all(dep in numbers and dep != issue.number for issue in first.issues for dep in issue.depends_on)
    assert all(issue.estimate_min > 0 and issue.actual_min > 0 and issue.created <= 0 for issue in first.issues)


@pytest.mark.parametrize("size", [50, 51, 64, 97])
def test_fanout_fits_any_size(size: int) -> None:
    assert len(generate("fanout", size, seed=1).issues) == size


def test_family_shapes() -> None:
    assert not any(issue.depends_on for issue in generate("independent", 200, 1).issues)
    chains = generate("chains", 200, 1)
    assert bounds(chains).critical_path >= sum(issue.actual_min for issue in chains.issues[:8]) - 1e-6
    layered = generate("layered", 120, 1)
    assert all(1 <= len(issue.depends_on) <= 4 for issue in layered.issues[20:])  # 1-3 parents, maybe a skip edge
    fanout = generate("fanout", 17, 1)
    join = fanout.issues[13]
    assert join.depends_on == tuple(range(2, 14))
    backlog = generate("backlog", 500, 1)
    dependent = sum(1 for issue in backlog.issues if issue.depends_on)
    assert 0 < dependent < 250


def test_priority_mix_and_estimates_follow_the_brief() -> None:
    issues = generate("independent", 5000, 7).issues
    shares = {level: sum(issue.priority == level for issue in issues) / len(issues) for level in ("P0", "P1", "P2", "P3")}
    assert shares == pytest.approx({"P0": 0.10, "P1": 0.25, "P2": 0.40, "P3": 0.25}, abs=0.03)
    estimates = sorted(issue.estimate_min for issue in issues)
    assert 38 < estimates[len(estimates) // 2] < 52
    errors = sorted(issue.actual_min / issue.estimate_min for issue in issues)
    assert 0.9 < errors[len(errors) // 2] < 1.1


def test_sigma_zero_means_perfect_estimates() -> None:
    assert all(issue.actual_min == issue.estimate_min for issue in generate("backlog", 50, 2, sigma=0.0).issues)
