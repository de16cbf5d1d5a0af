"""Waiting in tests for a condition, with room for a busy machine.

A wait polls its condition, so a generous limit costs nothing when things go well; it only
decides how long a broken run takes to fail. Two cores running the suite beside agents and
git processes have made 20-second waits fail, so every wait gets at least `WAIT_S`.
"""

from __future__ import annotations

import asyncio
import os
from typing import Callable

WAIT_S = float(os.environ.get("WATERSPIDER_TEST_WAIT_S", "120"))
"""The least time a wait allows (set WATERSPIDER_TEST_WAIT_S to change it)."""


async def until(condition: Callable[[], object], timeout: float = WAIT_S, poll_s: float = 0.02) -> None:
    """Return once `condition()` is true; fail after max(timeout, WAIT_S) seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(timeout, WAIT_S)
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached in {max(timeout, WAIT_S):.0f}s")
        await asyncio.sleep(poll_s)
