"""One session of one issue on this machine, as `waterspider exec-issue` runs it inside a CI job.

Nothing here is particular to CI: the session is the engine's own, through the same pieces a
local run uses (the worktree manager, the local executor and its detached runner, the agent and
its stream parser, the `[pipeline]` steps after the agent), recorded in a scratch store of its
own. What is added is only the way out: readable lines for the job log, the agent's stream-json
written to a file (the run's artifact) and, when asked, echoed to the log with a prefix the
orchestrator recognises.

A completion gate that fails with rounds left sends the work back to the agent here, as the
engine does: the next round is a session of its own (`SESSION.2`, ...) resuming the agent's
conversation with the gate's output as its prompt, on the same worktree and branch, until the
gate passes or `max_rounds` is spent.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from waterspider_tui.adapters.agents.registry import make_agent
from waterspider_tui.adapters.executors.actions_stream import STEP_PREFIX, StreamTee, open_stream_file
from waterspider_tui.adapters.executors.local import LocalExecutor
from waterspider_tui.adapters.executors.pool import ExecutorPool
from waterspider_tui.adapters.pipeline.registry import make_steps
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager
from waterspider_tui.config import ConfigError
from waterspider_tui.core import events as ev
from waterspider_tui.core.clock import SystemClock
from waterspider_tui.core.models import Outcome, SessionResult, TaskState, round_session_id
from waterspider_tui.core.placement import Placement
from waterspider_tui.engine.after_agent import follow_up_of
from waterspider_tui.engine.sessions import SessionSupervisor
from waterspider_tui.engine.wiring import env_policy, session_policy
from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.state_store import StateStore

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import LogEntry
    from waterspider_tui.core.state import Attempt
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.config import Settings
    from waterspider_tui.core.models import Issue

CANCELLED_BY_SIGNAL = "cancelled: the job was stopped"


@dataclass(frozen=True)
class SessionEnd:
    result: SessionResult
    interrupted: bool
    """A signal (the run cancelled) stopped the session."""
    steps: tuple[ev.StepFinished, ...]
    """Each step after the agent as it finished, in order, over every round."""
    step_rounds: tuple[int, ...] = ()
    """The round (from 1) each of `steps` belongs to."""
    rounds: int = 1
    """How many times the agent ran: a failed gate with rounds left sends the work back to it."""
    agent_exit_code: int | None = None
    """The agent's own exit in the last round (the session's outcome may be a step's failure)."""
    agent_rounds: tuple[SessionResult, ...] = ()
    """The agent's own result in each round, in order."""
    round_attempts: tuple[Attempt, ...] = ()
    """Each round as it ended, an attempt of its own (numbered on from the orchestrator's), in order."""
    round_spans: tuple[tuple[int, int], ...] = ()
    """Where each round's output is in the stream file, [from, to)."""


async def fetch_github_issue(client: GitHubClient, repo: str, number: int) -> Issue:
    """The issue's text as the GitHub source reads it (without the dependency look-ups: one session needs none)."""
    from waterspider_tui.adapters.github.issue_mapping import issue_from_json

    answer = await client.get(f"/repos/{repo}/issues/{number}")
    if not isinstance(answer.data, dict):
        raise ConfigError(f"{repo}#{number}: GitHub answered no issue")
    return issue_from_json(answer.data, repo)


async def folder_issue(folder: Path, repo: str, number: int) -> Issue:
    """The issue numbered `number` in a folder of Markdown issues, as the folder source reads it."""
    from waterspider_tui.adapters.local_issues import LocalIssueSource

    polled = await LocalIssueSource(folder, repo).poll()
    if not polled.ok:
        raise ConfigError(polled.message)
    found = next((issue for issue in polled.issues if issue.number == number), None)
    if found is None:
        refused = next((r.error for r in polled.rejected if (r.issue_key or "").endswith(f"#{number}")), "")
        raise ConfigError(refused or f"no issue #{number} in {folder}")
    return found


def print_entries(write: Callable[[str], None]) -> Callable[[str, list[LogEntry]], None]:
    """Readable lines: the agent's text as it is, everything else after its kind."""

    def publish(_key: str, entries: list[LogEntry]) -> None:
        for entry in entries:
            write(entry.text if entry.kind == "text" else f"[{entry.kind}] {entry.text}")

    return publish


async def run_single_session(
    settings: Settings, issue: Issue, *, session_id: str, attempt: int, stream_file: Path,
    write: Callable[[str], None], echo_stream: bool, github: GitHubClient | None = None, multi_repo: bool = False,
) -> SessionEnd:
    """Run the agent on `issue` in its worktree, then the configured steps; the session's result.

    `multi_repo`: the orchestrator works on several repositories, so the branch names the repository.

    Raises ConfigError (one line) when the settings cannot make a session here.
    """
    workspace_settings = settings.workspace
    try:
        workspace = WorkspaceManager(
            workspace_settings.repo_path, base_branch=workspace_settings.base_branch,
            worktrees_dir=workspace_settings.worktrees_dir, warm_pool=0,
        )
    except WorkspaceError as error:
        raise ConfigError(str(error)) from error
    try:
        agent = make_agent(settings.agent.kind, dict(settings.agent.options), env_policy(settings))
    except (ValueError, TypeError) as error:
        raise ConfigError(f"agent: {error}") from error
    try:
        steps = make_steps(settings.pipeline.steps, settings.pipeline.step_options(), github=github)
    except ValueError as error:
        raise ConfigError(str(error)) from error
    state_dir = Path(workspace.root) / ".waterspider"
    workspace.ignore(state_dir)
    local = LocalExecutor(workspace, state_dir / "sessions", slots=1, niceness=settings.sessions.niceness)
    with open_stream_file(stream_file) as sink, tempfile.TemporaryDirectory(prefix="waterspider-exec-") as scratch:
        tee = StreamTee(local, sink, write if echo_stream else None)
        # The store is scratch: the run's record is its stream artifact and the orchestrator's own store.
        store = StateStore(EventLog(Path(scratch) / "state.db"))
        supervisor = SessionSupervisor(
            store=store, clock=SystemClock(), agent=agent, pool=ExecutorPool([tee]), policy=session_policy(settings),
            steps=steps, publish_log=print_entries(write), multi_repo=multi_repo,
        )
        steps_done: list[ev.StepFinished] = []
        agent_exits: list[ev.AgentExited] = []

        def collect(_snapshot: object, stored: tuple[ev.Event, ...]) -> None:
            steps_done.extend(event for event in stored if isinstance(event, ev.StepFinished))
            agent_exits.extend(event for event in stored if isinstance(event, ev.AgentExited))
            if echo_stream:  # the orchestrator following the log knows the agent's silence now is no stall
                for event in stored:
                    if isinstance(event, (ev.StepStarted, ev.StepFinished)):
                        write(f"{STEP_PREFIX}{event.step} {'started' if isinstance(event, ev.StepStarted) else 'ended'}")

        store.subscribe(collect)
        clock = SystemClock()
        store.record((ev.IssueSeen(ts=clock.now(), issue_data=issue),))
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stop() -> None:
            interrupted.set()
            supervisor.cancel_reasons[issue.key] = CANCELLED_BY_SIGNAL

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop)
        try:
            placement = Placement(executor=local.name, host=local.name, reason="exec-issue")
            round_number = 1
            while True:
                # Each round is an attempt of its own, as a gate round of the orchestrator's is.
                round_attempt = attempt + round_number - 1
                if not supervisor.launch(issue.key, placement, attempt=round_attempt, session_id=round_session_id(session_id, round_number)):
                    raise ConfigError(f"{issue.key}: the session could not be recorded")
                await supervisor.tasks[issue.key]
                task = store.snapshot.tasks[issue.key]
                # The gate sent the work back (it counts its own rounds): the agent goes again, here.
                if interrupted.is_set() or task.state is not TaskState.QUEUED or not follow_up_of(task):
                    break
                round_number += 1
                write(f"waterspider: round {round_number}: the gate sent the work back to the agent")
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            tee.finish()
            await local.close()
            store.log.close()
        task = store.snapshot.tasks[issue.key]
        result = task.result or SessionResult(outcome=Outcome.FAILED, error="the session ended without a result")
        step_rounds = tuple(_round_of(event.session_id, session_id) for event in steps_done)
        round_ids = [round_session_id(session_id, number) for number in range(1, round_number + 1)]
        return SessionEnd(
            result=result, interrupted=interrupted.is_set(), steps=tuple(steps_done), step_rounds=step_rounds,
            rounds=round_number, agent_exit_code=agent_exits[-1].result.exit_code if agent_exits else None,
            agent_rounds=tuple(event.result for event in agent_exits), round_attempts=task.history,
            round_spans=tuple(tee.spans.get(round_id, (0, 0)) for round_id in round_ids),
        )


def _round_of(round_id: str, session_id: str) -> int:
    suffix = round_id.removeprefix(session_id).removeprefix(".")
    return int(suffix) if suffix.isdigit() else 1
