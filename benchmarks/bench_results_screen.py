"""What the results screen (`R`) costs the control center: the engine reads every finished session from
the store and folds it into the report's figures. Measured on a store of N copies of the report
fixture's night, the event loop's longest stall while the figures are read on the loop, and while
they are read in a worker thread (what `Engine.load_results` does); the ratio is the point, as
both run in the same process on the same store.

Usage: python benchmarks/bench_results_screen.py [--nights 400]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reporting.report_fixture import night_events  # noqa: E402
from waterspider_tui.core import events as ev  # noqa: E402
from waterspider_tui.engine.worktree_access import results_figures, stored_results_figures  # noqa: E402
from waterspider_tui.store.event_log import EventLog  # noqa: E402


async def longest_stall(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(the longest gap between 5 ms ticks of the loop, the work's own time) while `work` runs."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticks = asyncio.create_task(ticker())
    start = time.perf_counter()
    await work()
    took = time.perf_counter() - start
    done.set()
    await ticks
    return max(gaps or [took]), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=400)
    nights = parser.parse_args().nights
    path = Path(tempfile.mkdtemp()) / "state.db"
    log = EventLog(path)
    log.append([event for _ in range(nights) for event in night_events()])
    log.close()
    reader = EventLog(path, read_only=True)
    sessions = sum(isinstance(event, ev.SessionFinished) for event in reader.read())

    async def on_the_loop() -> None:
        results_figures(reader.read())

    async def in_a_thread() -> None:
        await asyncio.to_thread(stored_results_figures, path)

    print(f"{reader.count()} events, {sessions} finished sessions")
    stalls = {}
    for name, work in (("on the loop", on_the_loop), ("in a worker thread", in_a_thread)):
        stall, took = asyncio.run(longest_stall(work))
        stalls[name] = stall
        print(f"  {name:20} read in {took * 1000:6.0f} ms, longest stall of the event loop {stall * 1000:6.0f} ms")
    print(f"  the thread cuts the stall {stalls['on the loop'] / stalls['in a worker thread']:.0f}x")
    reader.close()


if __name__ == "__main__":
    main()
