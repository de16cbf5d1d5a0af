"""The engine's background loops: polling sources, probing hosts, and the sinks' outboxes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING

from waterspider_tui.adapters.source_base import PollResult
from waterspider_tui.core import events as ev
from waterspider_tui.engine.collector import poll_events
from waterspider_tui.engine.preflight import PAUSED_BY, host_problems, reachability_events
from waterspider_tui.engine.session_end import HOST_FAILURE
from waterspider_tui.store.command_requests import CommandRequests, Reply, UnknownCommand
from waterspider_tui.text.status_text import cycle_warning, unknown_ref_warning

if TYPE_CHECKING:
    from waterspider_tui.adapters.source_base import IssueSource
    from waterspider_tui.core.commands import Command
    from waterspider_tui.core.scheduler import Plan
    from waterspider_tui.engine.engine import Engine

log = logging.getLogger(__name__)

HOST_PROBE_INTERVAL_S = 5.0
HOST_PROBE_JITTER = 0.2
"""Each wait between probes is the interval ± this share of it."""
CONFIRM_RETRY_S = 10.0
"""After a source could not answer the check before a start, how long until it is asked again."""


async def collect(engine: Engine, source: IssueSource, interval: float) -> None:
    """Poll one source for ever; a poll that changes nothing records only its status."""
    repos = tuple(getattr(source, "repos", ()))
    while True:
        started = engine.clock.now()
        try:
            result = await source.poll()
        except Exception as error:  # a source must not take the engine down
            log.exception("poll of %s failed", source.name)
            result = PollResult(ok=False, message=f"{type(error).__name__}: {error}")
        now = engine.clock.now()
        wait = next_poll_wait(started, now, interval)
        events = poll_events(engine.snapshot, repos, result, now)
        status = ev.SourcePolled(
            ts=now, source=source.name, ok=result.ok, message=result.message, next_poll=now + wait,
            rate_remaining=result.rate_remaining, rate_limit=result.rate_limit, wait_until=result.wait_until,
        )
        previous = engine.snapshot.sources.get(source.name)
        changed = previous is None or (previous.ok, previous.message, previous.wait_until, previous.rate_remaining) != (status.ok, status.message, status.wait_until, status.rate_remaining)
        if events or changed:
            engine.record(*events, status)
        else:
            engine.record_transient(status)
        if not result.ok and (previous is None or previous.message != result.message):
            kept = "keeping the last good list" if source.name in engine.snapshot.sources_ok_at else "no good poll yet: no issues from it"
            advice = f"; {result.advice}" if result.advice else ""
            engine.record(ev.Warned(ts=now, message=f"{source.name}: {result.message} ({kept}){advice}"))
        for event in events:
            if isinstance(event, ev.IssueGone):
                engine.sessions.stop_closed(event.issue, f"issue {event.reason}")
            elif isinstance(event, ev.IssueSeen) and event.issue_data.closed:
                engine.sessions.stop_closed(event.issue_data.key, "issue closed")
        if result.ok:
            # Only a good poll makes the backlog known: `--until-idle` must not end on a failed first poll.
            engine.polled.add(source.name)
        else:
            engine.idle_end.poll_failed(source.name)
        engine.refresh.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(engine.refresh.wait(), timeout=wait)


def next_poll_wait(started: float, now: float, interval: float) -> float:
    """How long until the next poll: polls start `interval` apart, so a poll that spent seconds
    retrying does not stretch the pace (the time told as "retry in" is when it really starts),
    but one that took longer than that still leaves half an interval of rest."""
    return max(started + interval - now, interval / 2)


async def confirm(engine: Engine, key: str) -> str | None:
    """Asked of an issue's source right before its session starts: '' to go, a reason to hold.

    None means not now: the issue is gone, or its source could not answer (GitHub down, a 401
    blip). Trust is never assumed, so the issue does not start, but it is not held either:
    the next dispatch after `CONFIRM_RETRY_S` asks again.
    """
    task = engine.snapshot.tasks.get(key)
    if task is None or engine.confirm_after.get(key, 0.0) > engine.clock.now():
        return None
    for source, _ in engine.sources:
        check = getattr(source, "confirm", None)
        if check is None or not source_owns(source, task.issue.repo):
            continue
        try:
            answer = await check(task.issue)
        except Exception as error:
            log.warning("could not confirm %s before its start: %s", key, error)
            engine.confirm_after[key] = engine.clock.now() + CONFIRM_RETRY_S
            return None
        engine.confirm_after.pop(key, None)
        return str(answer)
    return ""


def source_owns(source: IssueSource, repo: str) -> bool:
    repos = tuple(getattr(source, "repos", ()))
    return not repos or repo.lower() in {name.lower() for name in repos}


async def probe(engine: Engine) -> None:
    """Every host's load on a schedule, never overlapping: the next probe waits for this one."""
    said: dict[str, bool] = {}
    while True:
        statuses = await engine.pool.probe()
        now = engine.clock.now()
        used: dict[str, int] = {}
        for task in engine.snapshot.running():
            if task.session is not None:
                used[task.session.host] = used.get(task.session.host, 0) + 1
        probed = [ev.HostProbed(ts=now, host=replace(status, slots_used=max(used.get(status.name, 0), status.slots_used), probed_at=now)) for status in statuses]
        # A host going down or coming back is history (notifiers announce it, a restart shows it);
        # its load every few seconds is not, so those probes are published without being stored.
        known = engine.snapshot.hosts
        changed = [e for e in probed if (known[e.host.name].reachable if e.host.name in known else True) != e.host.reachable]
        if changed:
            engine.record(*changed)
        steady = [e for e in probed if e not in changed]
        if steady:
            engine.record_transient(*steady)
        told = reachability_events(engine.snapshot, engine.pool, statuses, said, now)
        if told:
            engine.record(*told)
        # Jitter: the probes of several orchestrators (or of one restarted) do not stay in step.
        await asyncio.sleep(HOST_PROBE_INTERVAL_S * random.uniform(1 - HOST_PROBE_JITTER, 1 + HOST_PROBE_JITTER))


def warn_once(engine: Engine, current: Plan, warned: set[tuple[str, str]], now: float) -> None:
    """Warn about what the plan finds wrong, once: a warning the store already holds, from an
    earlier start, is still true (the plan finds it now) and is not recorded again."""
    fresh: list[ev.Event] = []
    told = set(engine.snapshot.warnings)
    for task, ref in current.unknown_refs:
        if (task, ref) not in warned:
            warned.add((task, ref))
            message = unknown_ref_warning(task, ref, engine.display_key)
            if message not in told:
                fresh.append(ev.Warned(ts=now, issue=task, message=message))
    for cycle in current.cycles:
        signature = ("cycle", " ".join(cycle))
        if signature not in warned:
            warned.add(signature)
            message = cycle_warning(cycle, engine.display_key)
            if message not in told:
                fresh.append(ev.Warned(ts=now, message=message))
    if fresh:
        engine.record(*fresh)


def start_outboxes(engine: Engine) -> list[asyncio.Task[None]]:
    """One outbox per sink, reading the store from the sink's own cursor."""
    if not engine.sinks:
        return []
    from waterspider_tui.adapters.sinks.outbox import Outbox
    from waterspider_tui.store.sink_cursors import SinkCursors

    def warn(line: str) -> None:
        engine.record(ev.Warned(ts=engine.clock.now(), message=f"reporting: {line}"))

    engine.sink_cursors = SinkCursors(engine.store.log.path)
    engine.outboxes = [
        Outbox(engine.store.log, sink, cursors=engine.sink_cursors, snapshot=lambda: engine.store.snapshot, warn=warn,
               record=engine.record, clock=engine.clock.now)
        for sink in engine.sinks
    ]
    wakes = []
    for _ in engine.outboxes:
        wakes.append(asyncio.Event())

    def wake_all(snapshot: object, events: object) -> None:
        for wake in wakes:
            wake.set()

    engine.stop_waking_outboxes = engine.store.subscribe(wake_all)
    return [asyncio.create_task(outbox.run(wake)) for outbox, wake in zip(engine.outboxes, wakes)]


async def drain_outboxes(engine: Engine, workers: list[asyncio.Task[None]], deadline_s: float) -> None:
    """At exit: stop the outboxes' loops, then give them until the deadline to catch up."""
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    if engine.stop_waking_outboxes is not None:
        engine.stop_waking_outboxes()
        engine.stop_waking_outboxes = None
    # These lines are news of this exit only: published, not stored, so they do not pile up as
    # problems with every restart. The lock files say the same, for a start refused meanwhile.
    for outbox in engine.outboxes:
        owed = outbox.owed_at_exit()
        due = outbox.due_at_exit()
        if not owed and (due is None or due >= engine.clock.now() + deadline_s):
            continue
        name = outbox.sink.name
        waits_for = f"{name}: writing {_updates(owed) if owed else 'updates put off'} before exit (up to {deadline_s:.0f}s)"
        engine.locks.say(waits_for)
        engine.record_transient(ev.Warned(ts=engine.clock.now(), message=waits_for))

        def progress(done: int, total: int, name: str = name) -> None:
            log.info("%s: %d of %d written", name, done, total)

        remaining = await outbox.drain(deadline_s=deadline_s, progress=progress, at_exit=True)
        if remaining:
            engine.record_transient(ev.Warned(ts=engine.clock.now(), message=f"{name}: {_updates(remaining, pending=False)} not yet written; the next start writes them"))
    held = [(sink.name, count) for sink in engine.sinks if getattr(sink, "sends_held_at_close", False) and (count := sink.held_back())]  # type: ignore[attr-defined]
    if held:  # sent by the sinks' close, next
        engine.locks.say("; ".join(f"{name}: sending {count} held notice{'s' if count != 1 else ''} before exit" for name, count in held))
    if engine.sink_cursors is not None:
        engine.sink_cursors.close()


def _updates(count: int, *, pending: bool = True) -> str:
    return f"{count} {'pending ' if pending else ''}update{'s' if count != 1 else ''}"


PREFLIGHT_INTERVAL_S = 30.0


async def preflight(engine: Engine, checked: asyncio.Event) -> None:
    """Check the hosts before dispatching anything, and again while paused for a host problem.

    A problem found pauses dispatch (once, with every problem named); the pause is lifted by
    the check passing. A pause for a session's host-wide failure (`auth`: no check can see a
    key is valid without spending money) is lifted by the checks at the next start, or by p.
    """
    first = True
    while True:
        snapshot = engine.snapshot
        ours = snapshot.dispatcher_paused and (snapshot.paused_by == PAUSED_BY or (first and snapshot.paused_by == HOST_FAILURE))
        if first or ours:
            problems = await host_problems(engine.agent, engine.pool)
            now = engine.clock.now()
            snapshot = engine.snapshot
            if problems and not snapshot.dispatcher_paused:
                engine.record(ev.DispatcherPaused(ts=now, by=PAUSED_BY, reason="; ".join(problems)[:500]))
            elif not problems and ours and snapshot.dispatcher_paused:
                engine.record(ev.DispatcherResumed(ts=now, by="host check passed"))
        first = False
        checked.set()
        await asyncio.sleep(PREFLIGHT_INTERVAL_S)


COMMAND_REQUEST_INTERVAL_S = 0.5
"""How often the store is asked for commands from another process (`waterspider requeue` during a run)."""


async def serve_command_requests(engine: Engine) -> None:
    """Carry out the commands other processes left in the store, each by the operator's rules, and answer them.

    A request that fails in an unexpected way is answered with the error and the loop goes on: one bad
    request must not leave every later `waterspider requeue` unanswered until the next start.
    """
    try:
        requests = CommandRequests(engine.store.log.path)
    except Exception:  # a store this process cannot share: the run goes on, the command line says nobody answered
        log.exception("command requests cannot be read from %s", engine.store.log.path)
        return
    try:
        while True:
            try:
                # In a thread: a store locked by another process makes SQLite wait up to its busy timeout.
                for request in await asyncio.to_thread(requests.pending):
                    replies = [await _carry_out(engine, command) for command in request.commands]
                    await asyncio.to_thread(requests.answer, request.id, replies)
            except sqlite3.Error:  # a busy or briefly locked store: asked again on the next round
                log.warning("command requests could not be read this round", exc_info=True)
            await asyncio.sleep(COMMAND_REQUEST_INTERVAL_S)
    finally:
        requests.close()


async def _carry_out(engine: Engine, command: Command | UnknownCommand) -> Reply:
    if isinstance(command, UnknownCommand):
        return Reply(False, f"this orchestrator does not know the command {command.kind}: upgrade it")
    try:
        return Reply(True, await engine.submit(command))
    except ValueError as error:
        return Reply(False, str(error))
    except Exception as error:
        log.exception("the command %r from another process failed", command)
        return Reply(False, f"the orchestrator could not carry it out: {error}")
