"""A bound on ending the process after a stop signal: past it, the process ends anyway.

Nobody watches a terminal that was closed, and a process hung while ending keeps its store:
waiting on a worker thread, a screen's pending callback or the notifier's last sends is worth
a while, never for ever. What it still waited for is said on stderr (if the terminal is still
there: a `kill` from another shell, with the control center's terminal open).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable


def _threads_still_running() -> list[str]:
    """The threads the interpreter waits for at exit (not daemons), this one aside."""
    return [thread.name for thread in threading.enumerate() if not thread.daemon and thread is not threading.current_thread() and thread is not threading.main_thread()]


def _say_on_stderr(words: str) -> None:
    try:
        os.write(sys.__stderr__.fileno() if sys.__stderr__ else 2, f"\r\nwaterspider: {words}\r\n".encode("utf-8", "replace"))
    except (OSError, ValueError):  # the terminal is gone: the lock file still tells
        pass


class ExitDeadline:
    """After `seconds`, end the process with `code`, saying what it waited for (`waiting_for`, set as the ending goes on)."""

    def __init__(self, seconds: float, code: int, *, waiting_for: str, say: Callable[[str], None] = _say_on_stderr,
                 end: Callable[[int], None] = os._exit) -> None:
        self.seconds = seconds
        self.code = code
        self.waiting_for = waiting_for
        self._say = say
        self._end = end
        self._thread = threading.Thread(target=self._watch, name="exit-deadline", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _watch(self) -> None:
        # Never called off: the process ends either way, by itself or by this
        time.sleep(self.seconds)
        threads = _threads_still_running()
        words = f"not ended {self.seconds:g}s after the stop signal; still waiting for {self.waiting_for}"
        if threads:
            words += f" (threads: {', '.join(threads)})"
        self._say(words + "; ending now")
        self._end(self.code)
