"""Short garbage-collection pauses while the control center runs.

Why: with 200 sessions streaming, CPython's full collections walked the whole heap (about
180,000 tracked objects: snapshots, render caches, log lines) and stopped the event loop for
70–170 ms a dozen times in half a minute, the largest share of the slowest key presses
(benchmarks/README.md, "TUI under load"). So what has survived the young collections is frozen
(`gc.freeze`) every couple of seconds: the automatic collections then walk only what is newer
and stay in the milliseconds.

Frozen objects are never examined for cycles, and Textual makes some (a `Strip` caches itself),
about 30,000 objects a minute under that load. So every `full_every_s` one complete collection
runs over everything and frees them. It is the one long pause left (0.2–0.3 s at that load), so
it waits for a moment without key presses, up to one more period.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Callable

REFREEZE_EVERY_S = 2.0
FULL_EVERY_S = 300.0
QUIET_S = 2.0
"""A full collection prefers to start this long after the last key press."""


@dataclass
class GcPauses:
    refreeze_every_s: float = REFREEZE_EVERY_S
    """How often what survived the young collections is frozen."""
    full_every_s: float = FULL_EVERY_S
    """How often one complete collection frees cycles among frozen objects (one longer pause)."""
    quiet_s: float = QUIET_S
    clock: Callable[[], float] = time.monotonic
    _refrozen_at: float = field(default=float("-inf"), init=False)
    _full_at: float = field(default=float("-inf"), init=False)
    _input_at: float = field(default=float("-inf"), init=False)
    _active: bool = field(default=False, init=False)

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        """Collect everything once, then freeze it: the start-up objects live as long as the app."""
        self._active = True
        self._full()

    def note_input(self) -> None:
        """The operator pressed a key: a full collection now would delay its effect."""
        self._input_at = self.clock()

    def tick(self) -> None:
        """Call every second or so; does what is due, if anything."""
        if not self._active:
            return
        now = self.clock()
        since_full = now - self._full_at
        quiet = now - self._input_at >= self.quiet_s
        if since_full >= 2 * self.full_every_s or (since_full >= self.full_every_s and quiet):
            self._full()
        elif now - self._refrozen_at >= self.refreeze_every_s:
            # The young generations only (a few ms); cycles among what survives them wait for `_full`.
            gc.collect(1)
            gc.freeze()
            self._refrozen_at = now

    def stop(self) -> None:
        """Give the frozen objects back to the collector, so nothing outlives the app by being frozen."""
        if self._active:
            self._active = False
            gc.unfreeze()

    def _full(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._full_at = self._refrozen_at = self.clock()
