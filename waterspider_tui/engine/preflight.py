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
from waterspider_tui.core.models import ErrorClass

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import Agent
    from waterspider_tui.adapters.executors.pool import ExecutorPool

log = logging.getLogger(__name__)

PLACEHOLDER_DIR = "/nonexistent/waterspider-preflight"
PAUSED_BY = "host check"
"""The `by` of a dispatch pause that the checks lift by themselves once they pass."""


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
