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


def policy_config(name: str, slots: int) -> SchedulerConfig:
    """The scheduler configuration a policy name stands for; `ours` is the shipped default."""
    if name == "ours":
        return SchedulerConfig(capacity=slots)
    if name == "seed":
        return SchedulerConfig(capacity=slots, ordering="seed", critical_share=0.0)
    if name in POLICIES:
        return SchedulerConfig(capacity=slots, ordering=name)
    raise ValueError(f"unknown policy {name!r}: one of {', '.join(POLICIES)}")
