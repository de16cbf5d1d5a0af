"""Long poles: ready tasks that must start soon or the run ends later, and how long P0 work may hold them back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from waterspider_tui.core.schedule_structure import Structure


@dataclass(frozen=True)
class Pole:
    """A ready task whose chain of work nears what is left of the run (shown as *on the critical path*)."""

    chain: float
    """Its own duration plus the longest chain of work waiting on it, in minutes (as estimated)."""
    lead: float
    """How long before the run's end it should start: its chain with its own duration taken
    `margin` times (estimates run over, and one that runs over late ends the run late), over
    the share. The larger the lead, the sooner it is due."""
    left: float
    """What is left of the run: the remaining lower bound."""
    slack: float
    """Minutes it may still wait (what is left minus its lead); ≤ 0: none."""
    hold: float
    """Minutes P0 work may still hold it back: until its chain is `hold_share` of what is left."""

    @property
    def overdue(self) -> bool:
        """P0 work may hold it back no longer: it goes before P0 work."""
        return self.hold <= 0

    def reason(self) -> str:
        """The one line shown beside it in `plan` and the detail view."""
        waits = f"on the critical path: a {self.chain:.0f}m chain, {self.left:.0f}m of the run left"
        if self.overdue:
            return f"{waits}; it goes before P0 work"
        return f"{waits}; P0 work may hold it back {self.hold:.0f}m more"


def long_poles(
    ready: Iterable[str], structure: Structure, left: float, done: Mapping[str, float], running: Iterable[str],
    free: int, *, share: float, margin: float, hold_share: float,
) -> dict[str, Pole]:
    """The ready tasks due to start as long poles now.

    A task is due when its slack is gone, or when the slots that free up later come too late
    for it: sorted by slack, the k-th pole not started now gets the k-th slot to free up
    (running sessions by the estimate they have left), and the fewest poles started now (at
    most the free slots) that leave every other pole a slot within its slack are due.
    """
    if share <= 0 or left <= 0:
        return {}
    durations, tail = structure.durations, structure.tail
    waits = sorted(max(durations.get(key, 0.0) - done.get(key, 0.0), 0.0) for key in running)
    horizon = waits[-1] if waits else 0.0
    candidates: list[tuple[float, str, float, float]] = []
    for key in ready:
        own, after = durations.get(key, 0.0), tail.get(key, 0.0)
        lead = (margin * own + after) / share
        if left - lead <= horizon:
            candidates.append((left - lead, key, own + after, lead))
    if not candidates:
        return {}
    candidates.sort()
    started = _started_now([slack for slack, *_ in candidates], waits, free)
    hold_at = hold_share if hold_share > 0 else 1.0
    return {
        key: Pole(chain, lead, left, slack, left - chain / hold_at)
        for index, (slack, key, chain, lead) in enumerate(candidates)
        if index < started or slack <= 0
    }


def _started_now(slacks: list[float], waits: list[float], free: int) -> int:
    """The fewest of the poles (by slack) to start now so that each later one gets a slot in time."""
    for count in range(min(free, len(slacks)) + 1):
        if all(index - count < len(waits) and slacks[index] >= waits[index - count] for index in range(count, len(slacks))):
            return count
    return min(free, len(slacks))
