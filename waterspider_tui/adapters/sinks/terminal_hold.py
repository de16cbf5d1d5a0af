"""The orchestrator's terminal while another program has it: terminal output waits, then comes once."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger(__name__)


class TerminalHold:
    """Whether the terminal is lent (the operator's shell runs in it); writers hold back meanwhile.

    Why: a bell or an escape sequence written while the control center is suspended lands in the
    operator's shell. A writer registers `on_release` and writes what it held, in one piece,
    when the terminal is back.
    """

    def __init__(self) -> None:
        self._depth = 0
        self._flushes: list[Callable[[], None]] = []

    @property
    def held(self) -> bool:
        return self._depth > 0

    def on_release(self, flush: Callable[[], None]) -> None:
        """Call `flush` each time the terminal comes back."""
        self._flushes.append(flush)

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Hold terminal output inside the block; on leaving the outermost one, deliver what was held."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth:
                for flush in self._flushes:
                    try:
                        flush()
                    except OSError as error:  # a terminal that is gone must not take the front end with it
                        log.warning("held terminal output not delivered: %s", error)
