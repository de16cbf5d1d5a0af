"""The control center's terminal going away under it (tmux killing the pane, ssh dropping).

Textual writes the screen from one thread through a queue of 30 writes. A write to a terminal
that is gone fails (EIO); that thread then ends, the queue fills with the next redraws, and the
thirtieth write blocks the event loop for good: no stop signal is handled any more and the
process never exits. Here a lost terminal swallows what is written to it instead.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver


class LosableTerminal:
    """The terminal file the screen is written to; once a write fails, later ones go nowhere."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.lost = False

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                self._file.write(text)
            except (OSError, ValueError):  # EIO once the terminal hung up; ValueError once closed
                self.lost = True
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self.lost = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class TerminalLossDriver(LinuxDriver):
    """Textual's own terminal driver, writing through a `LosableTerminal`."""

    def __init__(self, app: Any, *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._file = LosableTerminal(self._file or sys.__stderr__)  # type: ignore[arg-type]
