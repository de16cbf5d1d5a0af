"""`--no-ui`: the same engine, its events printed as lines or JSON lines, and an exit code."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import TextIO

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import Snapshot
from waterspider_tui.engine import Engine
from waterspider_tui.event_text import describe
from waterspider_tui.store.codec import event_to_dict

_SKIPPED_IN_LINES = (ev.HostProbed,)


class LinePrinter:
    """Prints each stored event once, as text or as a JSON object per line."""

    def __init__(self, engine: Engine, out: TextIO, *, json_lines: bool) -> None:
        self.engine = engine
        self.out = out
        self.json_lines = json_lines

    def __call__(self, snapshot: Snapshot, events: list[ev.Event]) -> None:
        for event in events:
            if self.json_lines:
                self.out.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
                continue
            if isinstance(event, _SKIPPED_IN_LINES):
                continue
            line = describe(event, self.engine.display_key)
            if line:
                stamp = time.strftime("%H:%M:%S", time.localtime(event.ts))
                self.out.write(f"{stamp} {line}\n")
        self.out.flush()


def summary_lines(engine: Engine) -> list[str]:
    """What is left at the end: counts, and every issue that did not succeed with why."""
    snapshot = engine.snapshot
    counts: dict[str, int] = {}
    for task in snapshot.tasks.values():
        counts[task.state.value] = counts.get(task.state.value, 0) + 1
    lines = ["summary: " + ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))]
    current = engine.plan()
    for item in current.blocked:
        lines.append(f"  {engine.display_key(item.issue)} not run: {item.detail}")
    for task in snapshot.tasks_in(TaskState.FAILED):
        error_class = task.result.error_class.value if task.result and task.result.error_class else "failed"
        lines.append(f"  {engine.display_key(task.key)} failed: {error_class}")
    for path, error in snapshot.rejected.items():
        lines.append(f"  skipped file: {error}")
    return lines


def exit_code(snapshot: Snapshot) -> int:
    """0 when every issue is done (succeeded, or closed upstream); 1 otherwise."""
    done = (TaskState.SUCCEEDED, TaskState.GONE)
    return 0 if all(task.state in done for task in snapshot.tasks.values()) else 1


async def run_headless(engine: Engine, *, json_lines: bool = False, until_idle: bool = True, leave_running: bool = True, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    unsubscribe = engine.store.subscribe(LinePrinter(engine, out, json_lines=json_lines))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(engine.stop(leave_running=leave_running)))
    try:
        await engine.run(until_idle=until_idle)
    finally:
        unsubscribe()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if not json_lines:
        for line in summary_lines(engine):
            out.write(line + "\n")
    out.flush()
    return exit_code(engine.snapshot)
