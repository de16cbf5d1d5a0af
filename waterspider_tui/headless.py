"""`--no-ui`: the same engine, its events printed as lines or JSON lines, and an exit code."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from typing import Callable, TextIO

from waterspider_tui.core import events as ev
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import Snapshot
from waterspider_tui.engine import Engine
from waterspider_tui.exit_codes import EXIT_DONE, EXIT_INTERRUPTED, EXIT_NOT_DONE
from waterspider_tui.reporting import report_text
from waterspider_tui.reporting.results import Results, collect
from waterspider_tui.store.codec import event_to_dict
from waterspider_tui.text.event_text import describe
from waterspider_tui.text.not_run import BLOCKED_GROUPS, grouped_lines
from waterspider_tui.text.run_state import ALL_DONE, FINISHED, poll_line, run_state

_SKIPPED_IN_LINES = (ev.HostProbed,)


class SafeOut:
    """An output that survives its reader going away: the first broken pipe calls `on_broken`
    once, and everything after goes nowhere (as `head -3` expects)."""

    def __init__(self, out: TextIO, on_broken: Callable[[], None]) -> None:
        self.out = out
        self.on_broken = on_broken
        self.broken = False

    def write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.out.write(text)
        except (BrokenPipeError, ValueError):
            self._break()

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self.out.flush()
        except (BrokenPipeError, ValueError):
            self._break()

    def _break(self) -> None:
        self.broken = True
        _silence(self.out)
        self.on_broken()


def _silence(out: TextIO) -> None:
    """Point the stream's file at /dev/null, so the interpreter's last flush raises nothing."""
    try:
        fileno = out.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)


class LinePrinter:
    """Prints each stored event once, as text or as a JSON object per line (every event).

    As text, polls are printed when they say something: every failed poll (why, when it is
    tried again, how old the last good list is), the first one, recovery, a rate-limit wait;
    not every good one.
    """

    def __init__(self, engine: Engine, out: SafeOut | TextIO, *, json_lines: bool) -> None:
        self.engine = engine
        self.out = out
        self.json_lines = json_lines
        self._polls: dict[str, ev.SourcePolled] = {}
        self._ok_at: dict[str, float] = {}

    def __call__(self, snapshot: Snapshot, events: list[ev.Event]) -> None:
        for event in events:
            line = self._poll_line(event) if isinstance(event, ev.SourcePolled) else ""
            if self.json_lines:
                self.out.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
                continue
            if line is None or isinstance(event, _SKIPPED_IN_LINES):
                continue
            line = line or describe(event, self.engine.display_key)
            if line:
                stamp = time.strftime("%H:%M:%S", time.localtime(event.ts))
                self.out.write(f"{stamp} {line}\n")
        self.out.flush()

    def _poll_line(self, event: ev.SourcePolled) -> str | None:
        line = poll_line(event, self._polls.get(event.source), self._ok_at.get(event.source))
        self._polls[event.source] = event
        if event.ok:
            self._ok_at[event.source] = event.ts
        return line


def of_this_run(engine: Engine) -> Callable[[str | None], bool]:
    """Whether an issue key belongs to this run's sources: a store shared with an earlier run of
    another source (`--issues`, then `--repo`) keeps that run's issues, which are not this run's."""
    repos = {repo.lower() for source, _ in engine.sources for repo in getattr(source, "repos", ())}
    if not repos:
        return lambda key: True
    return lambda key: key is None or key.rpartition("#")[0].lower() in repos


def summary_lines(engine: Engine) -> list[str]:
    """What is left at the end of this run's issues: counts, and every issue that did not succeed with why."""
    snapshot = engine.snapshot
    ours = of_this_run(engine)
    tasks = [task for task in snapshot.tasks.values() if ours(task.key)]
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.state.value] = counts.get(task.state.value, 0) + 1
    current = engine.plan()
    state = run_state(snapshot, current, engine.clock.now())
    unfinished = any(task.state in (TaskState.FAILED, TaskState.CANCELLED) for task in tasks)
    head = (FINISHED if unfinished else ALL_DONE) if state.word in (ALL_DONE, FINISHED) else "not done"
    unanswered = engine.idle_end.never_answered()
    if unanswered:
        head = "not done"
    # Successes first: "finished: 2 succeeded, 2 failed" reads as the outcome, not as a verdict on it.
    order = [TaskState.SUCCEEDED.value, TaskState.FAILED.value, TaskState.CANCELLED.value]
    named = sorted(counts.items(), key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]))
    # "no issues" only when the sources said so: one that never answered left its backlog unknown.
    told = [", ".join(f"{count} {name}" for name, count in named)] if named else []
    told += [f"{name} never answered" + (f" ({message})" if message else "") for name, message in unanswered]
    lines = [f"summary: {head}: " + ("; ".join(told) or "no issues")]
    entries: list[tuple[str, str]] = []
    for item in current.blocked:
        if ours(item.issue):
            entries.append((BLOCKED_GROUPS.get(item.reason, "blocked"), f"  {engine.display_key(item.issue)} not run: {item.detail}"))
    for item in current.ready:
        task = snapshot.tasks.get(item.issue)
        if task is None or not ours(item.issue):
            continue
        never = engine.pool.never_fits(snapshot, task, engine.agent.name)
        if never:
            entries.append(("with a configuration error", f"  {engine.display_key(item.issue)} not run: {never} (a configuration error of this issue)"))
        elif snapshot.dispatcher_paused and snapshot.pause_reason:
            entries.append(("not run while dispatch is paused", f"  {engine.display_key(item.issue)} not run: {snapshot.pause_reason}"))
        else:
            entries.append(("ready, not started", f"  {engine.display_key(item.issue)} not started: ready, the run ended first"))
    for task in snapshot.tasks_in(TaskState.FAILED):
        if not ours(task.key):
            continue
        error_class = task.result.error_class.value if task.result and task.result.error_class else "failed"
        entries.append(("failed", f"  {engine.display_key(task.key)} failed: {error_class}"))
    entries += [("skipped files", f"  skipped file: {error}") for error in snapshot.rejected.values()]
    return lines + grouped_lines(entries)


def stored_results(engine: Engine) -> Results:
    """Every finished session of this run's sources in the engine's store, as `waterspider report` reads them."""
    ours = of_this_run(engine)
    return collect(event for event in engine.store.log.read() if ours(event.issue_key))


def exit_code(snapshot: Snapshot, ours: Callable[[str | None], bool] = lambda key: True) -> int:
    """EXIT_DONE when every issue (of this run's sources) is done (succeeded, or closed upstream); EXIT_NOT_DONE otherwise."""
    done = (TaskState.SUCCEEDED, TaskState.GONE)
    return EXIT_DONE if all(task.state in done for task in snapshot.tasks.values() if ours(task.key)) else EXIT_NOT_DONE


async def run_headless(
    engine: Engine, *, json_lines: bool = False, until_idle: bool = True, leave_running: bool = True,
    out: TextIO | None = None,
) -> int:
    """Run the engine printing its events; the exit code (EXIT_INTERRUPTED after a signal or a closed pipe).

    A signal or a reader that went away (`| head -3`) ends the run the same way: dispatch
    stops, and sessions are left running to be reattached (or stopped, as `leave_running` says).
    """
    interrupted: list[str] = []

    def interrupt(why: str) -> None:
        if not interrupted:
            interrupted.append(why)
            asyncio.ensure_future(engine.stop(leave_running=leave_running))

    safe = SafeOut(out or sys.stdout, lambda: interrupt("output closed"))
    unsubscribe = engine.store.subscribe(LinePrinter(engine, safe, json_lines=json_lines))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupt, signal.Signals(signum).name)
    try:
        await engine.run(until_idle=until_idle)
    finally:
        unsubscribe()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if not json_lines:
        totals, *failure_lines = report_text.summary_lines(stored_results(engine))
        for line in [*summary_lines(engine), f"results: {totals}", *failure_lines]:
            safe.write(line + "\n")
    safe.flush()
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_NOT_DONE if engine.idle_end.never_answered() else exit_code(engine.snapshot, of_this_run(engine))
