"""Operator commands from the command line, whether or not an orchestrator runs on the store.

With none running, the commands are applied to the store directly (holding the run's lock, so
none starts meanwhile). With one running (`--no-ui`, or a control center elsewhere), they are
left in the store as a request that the run carries out on its next look; the command line
waits a few seconds for its answer and prints it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from waterspider_tui.cli.common import events_at, fail

ANSWER_WAIT_S = 10.0
"""How long the command line waits for a running orchestrator to answer (it looks twice a second)."""
_LOOK_EVERY_S = 0.1


@dataclass(frozen=True)
class Outcome:
    replies: list[Any]
    """One `Reply` per command, in order."""
    by_running_orchestrator: bool


def carry_out(path: Path, commands_for: Callable[[Any], list[Any]], *, now: Callable[[], float]) -> Outcome:
    """Build the commands from the store's current state and carry them out, here or in the running orchestrator."""
    from waterspider_tui.engine.locks import EngineLocked, run_locks

    locks = run_locks(path)
    try:
        locks.acquire()
    except EngineLocked:
        outcome = _ask_running_orchestrator(path, commands_for)
        if outcome is not None:
            return outcome
        try:  # it stopped before it answered: nothing was done, and the store is free again
            locks.acquire()
        except EngineLocked:
            fail(f"the orchestrator running on {path} did not answer within {ANSWER_WAIT_S:.0f}s; nothing was done")
    try:
        return _apply_here(path, commands_for, now)
    finally:
        locks.release()


def _apply_here(path: Path, commands_for: Callable[[Any], list[Any]], now: Callable[[], float]) -> Outcome:
    from waterspider_tui.core import commands as cmd
    from waterspider_tui.store.command_requests import Reply
    from waterspider_tui.store.event_log import EventLog
    from waterspider_tui.store.state_store import StateStore
    from waterspider_tui.store.store_file import StoreError

    try:
        state = StateStore(EventLog(path))
    except StoreError as error:
        fail(str(error))
    try:
        replies = []
        for command in commands_for(state.snapshot):
            try:
                events, message = cmd.apply_command(state.snapshot, command, now())
            except ValueError as error:
                replies.append(Reply(False, str(error)))
                continue
            state.record(events)
            replies.append(Reply(True, message))
        return Outcome(replies, by_running_orchestrator=False)
    finally:
        state.log.close()


def _ask_running_orchestrator(path: Path, commands_for: Callable[[Any], list[Any]]) -> Outcome | None:
    """The running orchestrator's replies, or None when it did not take the request in time (then withdrawn)."""
    from waterspider_tui.core.state import replay
    from waterspider_tui.store.command_requests import CommandRequests
    from waterspider_tui.store.store_file import StoreError

    try:
        snapshot = replay(events_at(path))
    except StoreError as error:
        fail(str(error))
    commands = commands_for(snapshot)
    if not commands:
        return Outcome([], by_running_orchestrator=True)
    requests = CommandRequests(path)
    try:
        request_id = requests.submit(commands)
        deadline = time.monotonic() + ANSWER_WAIT_S
        while time.monotonic() < deadline:
            replies = requests.replies(request_id)
            if replies is not None:
                return Outcome(replies, by_running_orchestrator=True)
            time.sleep(_LOOK_EVERY_S)
        if requests.withdraw(request_id):
            return None
        return Outcome(requests.replies(request_id) or [], by_running_orchestrator=True)
    finally:
        requests.close()
