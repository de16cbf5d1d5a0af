"""The control center under load: time from a key press to the frame that shows its effect, busy against idle.

The app runs headless (`run_test(size=(200, 60))`) on the FakeEngine of tests/ui/fakes.py: real
snapshots from the core reducer, the real scheduler. Under load, a background task on the app's
loop does what the engine does for 200 running sessions: each session publishes a batch of log
lines and a progress event once a second (the engine's progress interval), their phases spread
evenly, each event its own snapshot (~200 snapshots and ~270 log lines a second).
Two presses, each ≥ 50 times at seeded random gaps: `p` (pause or resume dispatch: a command to the
engine, a new snapshot, the header shows "‖ paused" or "● dispatching") and `down` in the running
table (the log panel switches to the next session). A press is timed from the moment Pilot hands
the key to the driver to the first frame the compositor produced that contains the effect (timed
where the app hands frames to the driver). Each `pilot.press` runs as its own task: after sending
the key it waits for the app to go idle (up to 1 s, twice), which a busy app never does.
The baseline is the same presses on the same app with no load. Usage: python benchmarks/bench_tui_load.py [--presses 60]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from textual import events

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.ui import scenarios  # noqa: E402
from tests.ui.scenarios import NOW, key  # noqa: E402
from waterspider_tui.adapters.agents.base import LogEntry  # noqa: E402
from waterspider_tui.core import events as ev  # noqa: E402
from waterspider_tui.core.models import Progress  # noqa: E402
from waterspider_tui.ui.app import WaterspiderApp  # noqa: E402
from waterspider_tui.ui.widgets.queue_table import QueueTable  # noqa: E402

SESSIONS = 200
UPDATE_EVERY_S = 1.0
"""How often each session publishes new log lines and a progress event (the engine's progress interval)."""
GOAL_P99_S = 0.100
EFFECT_TIMEOUT_S = 10.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))] if ordered else float("nan")


class FrameRecorder:
    """Keeps each screen update the compositor hands to the driver, with the time it did."""

    def __init__(self, app: WaterspiderApp) -> None:
        self.frames: list[tuple[float, Any]] = []
        self.count = 0
        """Screen updates in all, including those already dropped from `frames`."""
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.frames.append((time.perf_counter(), renderable))
                self.count += 1
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]
        self.key_sent_at: float | None = None
        """When Pilot last handed a key to the driver."""

    def watch_keys(self, app: WaterspiderApp) -> None:
        """Note when each key reaches the driver (the running app's)."""
        driver = app._driver
        assert driver is not None
        original = driver.send_message

        def send_message(message: Any) -> None:
            if isinstance(message, events.Key):
                self.key_sent_at = time.perf_counter()
            original(message)

        driver.send_message = send_message  # type: ignore[method-assign]

    def first_showing(self, since: int, text: str, line: int | None = None) -> float | None:
        """When the first frame from index `since` showing `text` (on `line`, if given) was handed over."""
        for at, update in self.frames[since:]:
            if any(text in line_text for _, line_text in frame_lines(update) if line is None or _ == line):
                return at
        return None


def frame_lines(update: Any) -> Iterable[tuple[int, str]]:
    """(y, text) of each screen line a compositor update paints."""
    if hasattr(update, "chops"):
        for y, _, _ in update.spans:
            yield y, "".join(strip.text for strip in update.chops[y].values() if strip is not None)
    else:
        for y, strips in enumerate(update.strips, update.region.y):
            yield y, "".join(strip.text for strip in strips if strip is not None)


async def stream(engine: Any, stop: asyncio.Event, counts: dict[str, int]) -> None:
    """What the engine publishes for 200 live sessions: each logs and progresses once a second, phases spread evenly."""
    rng = random.Random(7)
    started = time.perf_counter()
    sent = 0
    while not stop.is_set():
        due = int((time.perf_counter() - started) * SESSIONS / UPDATE_EVERY_S)
        while sent < due:
            number, turn = 1000 + sent % SESSIONS, sent // SESSIONS
            lines = [LogEntry("tool" if rng.random() < 0.3 else "text", f"turn {turn}: step {i} of session {number}") for i in range(rng.choice((1, 1, 2)))]
            engine.push_logs(key(number), lines)
            progress = Progress("implementing", turn % 5, 5, turn, 0.01 * turn, f"Edit src/module_{turn % 9}.py", NOW)
            engine.push(ev.SessionProgressed(ts=NOW, issue=key(number), session_id=f"s-{number}-1", progress=progress))
            counts["lines"] += len(lines)
            counts["snapshots"] += 1
            sent += 1
        await asyncio.sleep(0.005)


async def measure(load: bool, presses: int, queued: int, seed: int, freeze_old_objects: bool = True) -> dict[str, Any]:
    """Press `p` and `down` `presses` times each on a fresh app; seconds from press to the frame showing it."""
    engine = scenarios.large(running=SESSIONS, queued=queued).engine()
    app = WaterspiderApp(engine, clock=lambda: NOW, freeze_old_objects=freeze_old_objects)
    recorder = FrameRecorder(app)
    rng = random.Random(seed)
    latencies: dict[str, list[float]] = {"p": [], "down": []}
    missed = 0
    counts = {"lines": 0, "snapshots": 0, "refreshes": 0}
    refresh_view = app.refresh_view

    def counted_refresh() -> None:
        counts["refreshes"] += 1
        refresh_view()

    app.refresh_view = counted_refresh  # type: ignore[method-assign]
    full_collections: list[float] = []
    """Seconds each full (generation 2) garbage collection stopped the loop while pressing."""
    collection_started = [0.0]

    def time_full_collections(phase: str, info: dict[str, int]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                collection_started[0] = time.perf_counter()
            elif pressing_window[0]:
                full_collections.append(time.perf_counter() - collection_started[0])

    pressing_window = [False]
    gc.callbacks.append(time_full_collections)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        stop = asyncio.Event()
        streamer = asyncio.create_task(stream(engine, stop, counts)) if load else None
        await asyncio.sleep(1.0)
        wall_started, cpu_started, frames_before = time.perf_counter(), time.process_time(), recorder.count
        counts["refreshes"] = 0
        running = app.screen.query_one("#running-table", QueueTable)
        order = ["p", "down"] * presses
        rng.shuffle(order)
        recorder.watch_keys(app)
        pressing_window[0] = True
        pressing: list[asyncio.Task[None]] = []
        for pressed in order:
            await asyncio.sleep(rng.uniform(0.03, 0.15))
            if pressed == "p":
                expected, line = ("● dispatching", 0) if engine.snapshot.dispatcher_paused else ("‖ ", 0)
            else:
                keys = running.keys
                expected, line = f"6 Log #{keys[(running.cursor_row + 1) % len(keys)].rpartition('#')[2]} ", None
            mark, recorder.key_sent_at = len(recorder.frames), None
            pressing.append(asyncio.create_task(pilot.press(pressed)))
            deadline = time.perf_counter() + EFFECT_TIMEOUT_S
            shown = None
            while shown is None and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
                shown = recorder.first_showing(mark, expected, line)
            if shown is None or recorder.key_sent_at is None:
                missed += 1
            else:
                latencies[pressed].append(shown - recorder.key_sent_at)
            recorder.frames.clear()
        await asyncio.gather(*pressing)
        pressing_window[0] = False
        wall, cpu = time.perf_counter() - wall_started, time.process_time() - cpu_started
        frames = recorder.count - frames_before
        if streamer is not None:
            stop.set()
            await streamer
    gc.callbacks.remove(time_full_collections)
    return {"latencies": latencies, "missed": missed, "wall_s": wall, "cpu_s": cpu, "frames": frames, "full_collections": full_collections, **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=60, help="presses of each key per run (at least 50 for the goal)")
    parser.add_argument("--queued", type=int, default=100, help="issues waiting besides the 200 running")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    idle = asyncio.run(measure(False, args.presses, args.queued, args.seed))
    busy = asyncio.run(measure(True, args.presses, args.queued, args.seed))
    unfrozen = asyncio.run(measure(True, args.presses, args.queued, args.seed, freeze_old_objects=False))
    print(f"## TUI under load (headless 200×60, {SESSIONS} running sessions + {args.queued} queued, FakeEngine over real snapshots)\n")
    print(f"Machine load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n")
    print(f"Load: {busy['snapshots'] / busy['wall_s']:.0f} snapshots/s and {busy['lines'] / busy['wall_s']:.0f} log lines/s published while pressing"
          f" ({busy['snapshots']:,} snapshots, {busy['lines']:,} lines in {busy['wall_s']:.0f} s)")
    for name, run in (("idle", idle), ("under load", busy), ("under load, nothing frozen", unfrozen)):
        print(f"- {name}: {run['refreshes'] / run['wall_s']:.1f} view refreshes/s, {run['frames'] / run['wall_s']:.1f} screen updates/s,"
              f" process CPU {run['cpu_s'] / run['wall_s']:.0%} of one core,"
              f" {len(run['full_collections'])} full garbage collections (longest {max(run['full_collections'], default=0) * 1000:.0f} ms)")
    print()
    print("| key → effect | presses | idle p50 / p99 | under load p50 / p99 | × idle (p50 / p99) | p99 vs goal 100 ms |")
    print("|---|---|---|---|---|---|")
    names = {"p": "`p` → header shows paused / dispatching", "down": "`down` → log panel follows the next session"}
    for pressed, name in names.items():
        base, loaded = idle["latencies"][pressed], busy["latencies"][pressed]
        b50, b99, l50, l99 = (percentile(v, s) * 1000 for v in (base, loaded) for s in (0.5, 0.99))
        print(f"| {name} | {len(base)} / {len(loaded)} | {b50:.1f} / {b99:.1f} ms | {l50:.1f} / {l99:.1f} ms | ×{l50 / b50:.1f} / ×{l99 / b99:.1f}"
              f" | ×{l99 / (GOAL_P99_S * 1000):.2f} ({'met' if l99 <= GOAL_P99_S * 1000 else 'NOT met'}) |")
    print("\nThe same load with the control center's collector policy off (`freeze_old_objects=False`, `ui/gc_pauses.py`):\n")
    print("| key → effect | nothing frozen p50 / p99 | frozen (above) p50 / p99 | × (p50 / p99) |")
    print("|---|---|---|---|")
    for pressed, name in names.items():
        off, on = unfrozen["latencies"][pressed], busy["latencies"][pressed]
        o50, o99, n50, n99 = (percentile(v, s) * 1000 for v in (off, on) for s in (0.5, 0.99))
        print(f"| {name} | {o50:.1f} / {o99:.1f} ms | {n50:.1f} / {n99:.1f} ms | ×{n50 / o50:.2f} / ×{n99 / o99:.2f} |")
    every = [value for run in (busy,) for values in run["latencies"].values() for value in values]
    print(f"\nAll presses under load: p50 {percentile(every, 0.5) * 1000:.1f} ms, p99 {percentile(every, 0.99) * 1000:.1f} ms,"
          f" max {max(every) * 1000:.1f} ms, mean {statistics.mean(every) * 1000:.1f} ms. Effects never shown within"
          f" {EFFECT_TIMEOUT_S:.0f} s: {idle['missed']} idle, {busy['missed']} under load. Whole run {time.perf_counter() - started:.0f} s.")
    if idle["missed"] or busy["missed"] or unfrozen["missed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
