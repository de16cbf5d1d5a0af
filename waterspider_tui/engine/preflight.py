"""Checks of the machine, not of an issue: is the agent there, can git commit, is there disk.

A failure that is about the host (no API key, no agent program, no git identity, a full disk)
would fail every issue the same way. The engine runs these checks before it dispatches, and
again while dispatch is paused for such a failure, so it resumes by itself once it is fixed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from waterspider_tui.adapters.agents.base import LaunchError, SessionContext
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import ErrorClass

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import Agent
    from waterspider_tui.adapters.executors.pool import ExecutorPool
    from waterspider_tui.core.models import HostStatus
    from waterspider_tui.core.state import Snapshot

log = logging.getLogger(__name__)

PLACEHOLDER_DIR = "/nonexistent/waterspider-preflight"
PAUSED_BY = "host check"
"""The `by` of a dispatch pause that the checks lift by themselves once they pass."""
HOSTS_DOWN = "hosts down"
"""The `by` of a dispatch pause while no host answers; lifted by the first host that answers again."""


def agent_program(agent: Agent) -> tuple[str, str]:
    """The program an agent would start, from a dry launch; ('', why) when it cannot be found.

    A launch only builds its command (the executor writes the session's files), so the
    placeholder paths below are never touched.
    """
    context = SessionContext(
        issue_key="preflight#0", number=0, repo="preflight", title="preflight", body="", labels=(),
        branch="preflight", worktree=PLACEHOLDER_DIR, session_dir=PLACEHOLDER_DIR,
    )
    try:
        spec = agent.launch(context)
    except LaunchError as error:
        if error.error_class is ErrorClass.AGENT_NOT_FOUND:
            return "", f"{agent.name}: {error}"
        return "", ""  # about this (empty) issue, not the host
    except (FileNotFoundError, LookupError) as error:
        return "", f"{agent.name}: {error}"
    except Exception as error:  # an agent whose launch cannot even be built: show why
        return "", f"{agent.name}: {type(error).__name__}: {error}"
    return (spec.argv[0] if spec.argv else ""), ""


async def host_problems(agent: Agent, pool: ExecutorPool) -> list[str]:
    """One line per problem that would fail every session; empty when the hosts look ready."""
    program, problem = await asyncio.to_thread(agent_program, agent)
    problems = [problem] if problem else []
    for executor in pool.executors:
        check = getattr(executor, "preflight", None)
        if check is None:
            continue
        try:
            problems += await check(program)
        except Exception as error:  # a check that cannot run is not a verdict on the host
            log.warning("preflight of %s failed: %s", executor.name, error)
    return problems


def reachability_events(snapshot: Snapshot, pool: ExecutorPool, probed: list[HostStatus], said: dict[str, bool], now: float) -> list[ev.Event]:
    """What a probe round tells the run: a host that cannot be reached (once, until it answers
    again), one that answers again, and dispatch waiting while no host at all can be reached.

    `said`: host -> whether it was last told reachable in this run; updated here. The store's
    statuses (`snapshot`) already hold this round's answers.
    """
    events: list[ev.Event] = []
    for status in probed:
        before = said.get(status.name)
        if status.reachable == before or (status.reachable and before is None):
            said[status.name] = status.reachable
            continue
        said[status.name] = status.reachable
        if status.reachable:
            events.append(ev.Warned(ts=now, message=f"{status.name} answers again: it takes new sessions", notice=True))
        else:
            why = (status.error or "no answer").removeprefix(f"{status.name}: ")
            events.append(ev.Warned(ts=now, message=f"{status.name} cannot be reached: {why}; no new sessions go there until it answers"))
    down = pool.down_reason(snapshot)
    if down and not snapshot.dispatcher_paused:
        events.append(ev.DispatcherPaused(ts=now, by=HOSTS_DOWN, reason=down[:500]))
    elif not down and snapshot.dispatcher_paused and snapshot.paused_by == HOSTS_DOWN:
        back = [status.name for status in probed if status.reachable]
        if back:
            events.append(ev.DispatcherResumed(ts=now, by=f"{back[0]} answers again"))
    return events
