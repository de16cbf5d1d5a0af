"""The references the tails are read against: `ours` knowing the true durations, and an order that knows nothing."""

from __future__ import annotations

from waterspider_tui.simulation.generator import generate
from waterspider_tui.simulation.metrics import bounds
from waterspider_tui.simulation.policies import policy_config, reference_run
from waterspider_tui.simulation.simulator import simulate


def test_clairvoyant_runs_ours_on_exact_estimates_of_the_same_backlog() -> None:
    backlog = generate("chains", 120, 112, sigma=1.0)
    exact, policy = reference_run("clairvoyant", backlog)
    assert policy == "ours"
    assert [(i.number, i.actual_min, i.depends_on) for i in exact.issues] == [(i.number, i.actual_min, i.depends_on) for i in backlog.issues]
    assert all(issue.estimate_min == issue.actual_min for issue in exact.issues)
    # one issue estimated 96m took 2,254m: knowing it, it starts at once and the run ends with it
    assert simulate(exact, policy_config(policy, 8)).makespan == bounds(backlog).lower_bound(8)
    assert simulate(backlog, policy_config("ours", 8)).makespan > 1.2 * bounds(backlog).lower_bound(8)


def test_random_shuffles_the_ages_of_waiting_issues_only_and_always_the_same_way() -> None:
    backlog = generate("p0-stream", 50, 3, sigma=0.5)
    shuffled, policy = reference_run("random", backlog)
    assert policy == "fifo"
    assert shuffled == reference_run("random", backlog)[0]
    before = {i.number: i.created for i in backlog.issues}
    after = {i.number: i.created for i in shuffled.issues}
    assert after != before
    assert sorted(after.values()) == sorted(before.values())
    # the P0s that appear later keep their moment
    assert all(after[number] == created for number, created in before.items() if created > 0)
    assert any(created > 0 for created in before.values())
