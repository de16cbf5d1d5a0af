"""The orderings compared side by side, each one a configuration of the real `plan()`."""

from __future__ import annotations

from waterspider_tui.core.scheduler import SchedulerConfig

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
    if name in VARIANTS:
        return SchedulerConfig(capacity=slots, learn_estimates=name != "ours-static", learned_long_poles=name == "ours-learned-all")
    if name == "seed":
        return SchedulerConfig(capacity=slots, ordering="seed", critical_share=0.0, learn_estimates=False)
    if name in POLICIES:
        return SchedulerConfig(capacity=slots, ordering=name, learn_estimates=False)
    raise ValueError(f"unknown policy {name!r}: one of {', '.join(POLICIES)}")
