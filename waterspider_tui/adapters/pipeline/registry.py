"""Steps after the agent by their config name; `[pipeline] steps` lists them in order."""

from __future__ import annotations

from typing import Callable

from waterspider_tui.adapters.pipeline.base import Step
from waterspider_tui.adapters.pipeline.commits import CountCommits

STEPS: dict[str, Callable[[], Step]] = {
    "commits": CountCommits,
}
"""A new step is a module in this folder with one class keeping the Step protocol, added here."""


def make_steps(names: list[str] | tuple[str, ...]) -> list[Step]:
    unknown = [name for name in names if name not in STEPS]
    if unknown:
        raise ValueError(f"unknown pipeline step {', '.join(unknown)} (known: {', '.join(sorted(STEPS))})")
    return [STEPS[name]() for name in names]
