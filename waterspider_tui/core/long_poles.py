"""Long poles: ready tasks that must start soon or the run ends later, and how long P0 work may hold them back."""

from __future__ import annotations

import heapq
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
    margin_note: str = ""
    """Why its own estimate counts more than the configured margin, when estimates have proven
    unreliable (`core.estimate_spread`): `its estimate ×1.65: estimates miss ×2.7`."""

    @property
    def overdue(self) -> bool:
        """P0 work may hold it back no longer: it goes before P0 work."""
        return self.hold <= 0

    def reason(self) -> str:
        """The one line shown beside it in `plan` and the detail view."""
        counted = f" ({self.margin_note})" if self.margin_note else ""
        waits = f"on the critical path: a {self.chain:.0f}m chain{counted}, {self.left:.0f}m of the run left"
        if self.overdue:
            return f"{waits}; it goes before P0 work"
        return f"{waits}; P0 work may hold it back {self.hold:.0f}m more"


def long_poles(
    ready: Iterable[str], structure: Structure, left: float, done: Mapping[str, float], running: Iterable[str],
    free: int, *, share: float, margin: float, hold_share: float, margin_note: str = "",
) -> dict[str, Pole]:
    """The ready tasks due to start as long poles now.

    A task is due when its slack is gone, or when the slots that free up later come too late
    for it: by slack, each pole not started now takes the slot that frees first (running
    sessions by the estimate they have left, poles started before it by their estimates), and
    the fewest poles started now (at most the free slots) that leave every other pole a slot
    within its slack are due.
    """
    if share <= 0 or left <= 0:
        return {}
    durations, tail = structure.durations, structure.tail
    waits = [durations.get(key, 0.0) - done.get(key, 0.0) for key in running]
    waits = sorted(0.0 if 0.0 > wait else wait for wait in waits)  # not `max` per session: this runs on every plan
    horizon = waits[-1] if waits else 0.0
    candidates: list[tuple[float, str, float, float, float]] = []
    ready_minutes: list[float] = []
    for key in ready:
        own, after = durations.get(key, 0.0), tail.get(key, 0.0)
        ready_minutes.append(own)
        lead = (margin * own + after) / share
        if left - lead <= horizon:
            candidates.append((left - lead, key, own + after, lead, own))
    if not candidates:
        return {}
    candidates.sort()
    filler = sorted(ready_minutes)[len(ready_minutes) // 2]
    started = _started_now([(slack, own) for slack, _, _, _, own in candidates], waits, free, filler)
    hold_at = hold_share if hold_share > 0 else 1.0
    return {
        key: Pole(chain, lead, left, slack, left - chain / hold_at, margin_note)
        for index, (slack, key, chain, lead, _) in enumerate(candidates)
        if index < started or slack <= 0
    }


def _started_now(poles: list[tuple[float, float]], waits: list[float], free: int, filler: float) -> int:
    """The fewest of the poles (slack, minutes; by slack) to start now so that each later one gets
    a slot in time: each takes the slot that frees first and holds it for its minutes; the free
    slots not given to a pole go to other work for `filler` minutes."""
    pole_minutes = [minutes for _, minutes in poles]
    fillers = [filler] * free
    for count in range(min(free, len(poles)) + 1):
        # The later poles take at most `later` slots, each the smallest left; a slot pushed back is
        # later than the one taken, so only the `later` soonest of the first slots can ever be taken:
        # the rest (most running sessions) is left out of the heap, with the same result.
        later = len(poles) - count
        slots = waits[:later] + pole_minutes[:count] + fillers[:min(free - count, later)]
        heapq.heapify(slots)
        for slack, minutes in poles[count:]:
            at = heapq.heappop(slots)
            if at > slack:
                break
            heapq.heappush(slots, at + minutes)
        else:
            return count
    return min(free, len(poles))
