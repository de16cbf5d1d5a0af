"""The orderings compared side by side, each one a configuration of the real `plan()`."""

from __future__ import annotations

import random
from dataclasses import replace

from waterspider_tui.core.scheduler import SchedulerConfig
from waterspider_tui.simulation.workload import Workload

POLICIES = ("fifo", "priority", "seed", "critical-path", "ours")
DESCRIPTIONS = {
    "fifo": "oldest issue first",
    "priority": "label weight, then age",
    "seed": "0.5 label + 0.2 time + 0.2 deps + 0.1 age, no critical-path jump",
    "critical-path": "longest remaining chain first",
    "ours": "the product's default plan()",
}


VARIANTS = {
    "ours-static": "ours with the estimates as given",
    "ours-learned": "ours with durations learned from finished sessions in the time part of the score",
    "ours-learned-all": "ours-learned, and the learned durations also in the long-pole figures",
    "ours-no-guard": "ours without the share other work keeps while P0 work waits",
    "ours-previous": "ours as the previous round shipped it: a long pole's estimate counted 1.15 times whatever the estimates missed by",
    "ours-hold-half": "ours with P0 work holding a long pole back only until its chain is half of the run left (not 0.8)",
}
"""Versions of `ours` compared in the benchmarks, not offered by `waterspider simulate`."""


def policy_config(name: str, slots: int) -> SchedulerConfig:
    """The scheduler configuration a policy name stands for; `ours` is the shipped default.

    The comparison policies take the estimates as given, as they were measured.
    """
    if name == "ours":
        return SchedulerConfig(capacity=slots)
    if name == "ours-no-guard":
        return SchedulerConfig(capacity=slots, other_share=0.0)
    if name == "ours-previous":
        return SchedulerConfig(capacity=slots, learn_pole_margin=False)
    if name == "ours-hold-half":
        return SchedulerConfig(capacity=slots, pole_hold_share=0.5)
    if name in VARIANTS:
        return SchedulerConfig(capacity=slots, learn_estimates=name != "ours-static", learned_long_poles=name == "ours-learned-all")
    if name == "seed":
        return SchedulerConfig(capacity=slots, ordering="seed", critical_share=0.0, learn_estimates=False, learn_pole_margin=False)
    if name in POLICIES:
        return SchedulerConfig(capacity=slots, ordering=name, learn_estimates=False, learn_pole_margin=False)
    raise ValueError(f"unknown policy {name!r}: one of {', '.join(POLICIES)}")


REFERENCES = {
    "clairvoyant": "ours with every estimate exact (the true durations): what knowing them would give",
    "random": "oldest first on ages shuffled by the backlog's seed: an order that knows nothing",
}
"""Not policies one could ship: the ends of the scale `ours` is read against in the tails."""


def reference_run(name: str, workload: Workload) -> tuple[Workload, str]:
    """The workload a reference runs on (the same issues and true durations) and the policy it runs."""
    if name == "clairvoyant":
        return replace(workload, issues=tuple(replace(issue, estimate_min=issue.actual_min) for issue in workload.issues)), "ours"
    if name == "random":
        # only issues already waiting trade ages: the ones that appear later keep their moment
        waiting = [index for index, issue in enumerate(workload.issues) if issue.created <= 0]
        ages = [workload.issues[index].created for index in waiting]
        random.Random(f"random:{workload.family}:{workload.seed}:{len(workload.issues)}").shuffle(ages)
        shuffled = list(workload.issues)
        for index, age in zip(waiting, ages):
            shuffled[index] = replace(shuffled[index], created=age)
        return replace(workload, issues=tuple(shuffled)), "fifo"
    raise ValueError(f"unknown reference {name!r}: one of {', '.join(REFERENCES)}")
