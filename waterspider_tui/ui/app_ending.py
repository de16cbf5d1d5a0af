"""How the control center ends: `q` and Ctrl-C (asking about running sessions), and the stop
signals (SIGTERM, SIGHUP), which end it as quitting does."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import TYPE_CHECKING

from textual import work

from waterspider_tui.exit_codes import EXIT_INTERRUPTED
from waterspider_tui.ui.screens.modals import QuitScreen

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the control center as quitting does: `kill`, and the terminal going away
(tmux closing the pane). Left to their default, they end the process at once, with the terminal
still in the alternate screen and the cursor hidden."""


class Ending:
    """The App's quitting and stop-signal handling (mixed into WaterspiderApp)."""

    def _handle_stop_signals(self: WaterspiderApp) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (an app run in a test's thread)
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            self._signal_handlers_before[signum] = signal.getsignal(signum)
            loop.add_signal_handler(signum, self._stop_signalled)

    def _restore_signal_handlers(self: WaterspiderApp) -> None:
        loop = asyncio.get_running_loop()
        for signum, handler in self._signal_handlers_before.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._signal_handlers_before.clear()

    def _stop_signalled(self: WaterspiderApp) -> None:
        if self._stopping:
            return  # a second signal while the engine stops: the first one's exit is on its way
        self._exit_code = EXIT_INTERRUPTED
        self._stop_and_exit(leave_running=self._leave_running_on_signal)

    async def action_help_quit(self: WaterspiderApp) -> None:
        """Ctrl-C asks the same question as q (Textual's default only says which key quits)."""
        if not isinstance(self.screen, QuitScreen):
            await self.action_quit()

    async def action_quit(self: WaterspiderApp) -> None:
        """Quit; with sessions running, ask whether to leave them running or stop them first."""
        running = len(self.view.plan.running) if self.view else 0
        if running:
            self.push_screen(QuitScreen(running), self._quit_chosen)
        else:
            self._stop_and_exit(leave_running=True)

    def _quit_chosen(self: WaterspiderApp, choice: str | None) -> None:
        if choice in ("leave", "stop"):
            self._stop_and_exit(leave_running=choice == "leave")

    @work(group="shutdown", exit_on_error=False)
    async def _stop_and_exit(self: WaterspiderApp, leave_running: bool) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.notify("Leaving sessions running…" if leave_running else "Stopping sessions…")
        try:
            await self.engine.stop(leave_running=leave_running)
        except Exception as error:  # still quit, but say so and fail the exit code
            self.exit(1, return_code=1, message=f"The engine did not stop cleanly: {type(error).__name__}: {error}")
            return
        self.exit(self._exit_code, return_code=self._exit_code)
