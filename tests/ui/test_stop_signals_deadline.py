"""A stop that hangs is bounded: past the deadline the process ends, saying what it waited for."""

from __future__ import annotations

import threading

from tests.waiting import WAIT_S
from waterspider_tui.ui.exit_deadline import ExitDeadline


def test_past_the_deadline_it_ends_saying_what_it_waited_for() -> None:
    said: list[str] = []
    ended = threading.Event()
    codes: list[int] = []
    blocker = threading.Thread(target=ended.wait, name="notifier-drain")
    blocker.start()
    deadline = ExitDeadline(0.05, 130, waiting_for="the engine to stop", say=said.append, end=lambda code: (codes.append(code), ended.set()))
    deadline.waiting_for = "the control center to close"
    deadline.start()
    assert ended.wait(WAIT_S)
    blocker.join()
    assert codes == [130]
    assert said == ["not ended 0.05s after the stop signal; still waiting for the control center to close (threads: notifier-drain); ending now"]

