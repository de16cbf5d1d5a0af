"""How the control center ends: `q` and Ctrl-C (asking about running sessions), and the stop
signals (SIGTERM, SIGHUP), which end it as quitting does."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import TYPE_CHECKING

from textual import work
from textual.driver import Driver

from waterspider_tui.exit_codes import EXIT_INTERRUPTED
from waterspider_tui.ui.exit_deadline import ExitDeadline
from waterspider_tui.ui.screens.modals import QuitScreen
from waterspider_tui.ui.terminal_loss import LosableTerminal, TerminalLossDriver

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the control center as quitting does: `kill`, and the terminal going away
(tmux closing the pane). Left to their default, they end the process at once, with the terminal
still in the alternate screen and the cursor hidden."""
SIGNAL_EXIT_DEADLINE_S = 30.0
"""How long the process may take to end after a stop signal (the engine stopping sessions, the
screen closing, threads joined) before it ends anyway, saying what it still waited for."""


class Ending:
    """The App's quitting and stop-signal handling (mixed into WaterspiderApp)."""

    exit_deadline: ExitDeadline | None = None
    """Armed by a stop signal: no one is at the terminal to see a stop that hangs."""

    def get_driver_class(self: WaterspiderApp) -> type[Driver]:
        """Textual's terminal driver, but one a vanished terminal cannot block (`terminal_loss`)."""
        driver = super().get_driver_class()  # type: ignore[safe-super]
        return TerminalLossDriver if driver.__name__ == "LinuxDriver" else driver

    def _handle_stop_signals(self: WaterspiderApp) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (an app run in a test's thread)
        # What Textual prints after the screen is gone must not fail the exit when the terminal is gone too
        self.error_console.file = LosableTerminal(self.error_console.file)
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
        self.exit_deadline = ExitDeadline(SIGNAL_EXIT_DEADLINE_S, EXIT_INTERRUPTED, waiting_for="the engine to stop")
        self.exit_deadline.start()
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
            if self.exit_deadline is not None:
                self.exit_deadline.waiting_for = "the control center to close"
        except Exception as error:  # still quit, but say so and fail the exit code
            self.exit(1, return_code=1, message=f"The engine did not stop cleanly: {type(error).__name__}: {error}")
            return
        self.exit(self._exit_code, return_code=self._exit_code)
