"""SIGTERM, and SIGHUP when the terminal goes away (tmux closes the pane), end the control center
the way quitting does: the engine stops (sessions left running, or stopped as `[sessions] on_exit`
says), the app exits through Textual's own exit, which gives the terminal back, and the exit
code says it was interrupted."""

from __future__ import annotations

import os
import signal
from typing import Iterator

import pytest

from waterspider_tui.exit_codes import EXIT_INTERRUPTED

from .pilots import make_app, settle


@pytest.fixture
def unhandled_signals() -> Iterator[list[int]]:
    """Signals that reached no handler of the app: recorded here instead of killing the tests."""
    reached: list[int] = []
    previous = {signum: signal.signal(signum, lambda number, frame: reached.append(number)) for signum in (signal.SIGTERM, signal.SIGHUP)}
    yield reached
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_stop_signal_leaves_sessions_running_and_exits_interrupted(signum: int, unhandled_signals: list[int]) -> None:
    app, engine = make_app("mid_run")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        os.kill(os.getpid(), signum)
        await settle(pilot)
    assert unhandled_signals == []
    assert engine.stopped == [True], "sessions are left running to be reattached"
    assert app.return_code == EXIT_INTERRUPTED


async def test_on_exit_stop_stops_the_sessions_on_a_signal(unhandled_signals: list[int]) -> None:
    app, engine = make_app("mid_run", leave_running_on_signal=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        os.kill(os.getpid(), signal.SIGTERM)
        await settle(pilot)
    assert unhandled_signals == []
    assert engine.stopped == [False]
    assert app.return_code == EXIT_INTERRUPTED


async def test_the_handlers_before_the_control_center_are_back_after_it(unhandled_signals: list[int]) -> None:
    app, _ = make_app("empty")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
    os.kill(os.getpid(), signal.SIGHUP)
    assert unhandled_signals == [signal.SIGHUP]
