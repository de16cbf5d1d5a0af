"""Sessions as GitHub Actions runs on self-hosted runners: one `workflow_dispatch` run per session.

GitHub already queues jobs to runners, so this executor holds no connection to any machine: it
dispatches the workflow (`examples/github-actions/agent-execute.yml`) with the session's inputs,
tracks the run through the runs API with conditional GETs, and cancels through the API.

The agent's output: while the run is in progress, the job's log is read on from where the last
read ended (`Range`), at the runs' polling pace, and the stream-json lines `exec-issue` echoed
into it are taken out (`actions_stream.py`); once the run completed, the `stream` artifact is
the complete record and continues where the log left off.

How a run is found: the dispatch asks for `return_run_details`, which answers 200 with the run's
id. A server that answers 204 (older GitHub Enterprise Server) is searched for the run whose
name (`run-name`, shown as `display_title`) carries this session's correlation id; never "the
newest run", which may be someone else's. The run's id and address are recorded with the session
(`external_reference`, stored by the engine as the session spawned), so after a restart the run is
asked for by its id; the correlation search is left for a session recorded without one (a 204
dispatch, or a stop between the dispatch and that record).

The steps after the agent that need the worktree (commits, the gate, the push) run on the runner:
the orchestrator's `[pipeline]` travels with the dispatch as the `pipeline` input (`runner_pipeline`),
so a gate set once applies wherever a session runs, and a failed gate goes back to the agent on
the runner for its rounds. Back here, each of those steps records what the runner's last round
said of it (`step_outcome`, from `session.json` in the artifact), as a local step would record
itself; the pull request is opened from here, through the API.

The workflow's concurrency group (one per issue) follows GitHub's rule: a run queued while
another of its group is in progress waits `pending`, and the group's run pending before it is
cancelled by GitHub. So a run can end `cancelled` without anyone here asking: this executor tells
the cancels it asked for (the operator's `x`, a queued deadline) from those, and reports a run
GitHub cancelled for a newer run of the same issue as superseded (host_down: placed again, not
charged), never as the operator's cancel or the agent's failure. A run cancelled on GitHub by
someone (the web page's "Cancel workflow", the API) ends the session cancelled, as the
operator's cancel here does (`cancelled on GitHub`, where `x` says `cancelled by operator`): not a
failure, not retried.

All sessions share one logical host (`actions` by default): the runners are GitHub's to choose.

This module holds the executor's placement and hosts; the rest is mixed in, one job a module:
dispatch and run correlation (`actions_dispatch`), state, wait and step outcomes
(`actions_results`), the agent's output (`actions_output`), cancels (`actions_cancel`), git
answered from GitHub (`actions_git`), and what a run is to it (`actions_runs`).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence

from waterspider_tui.adapters.executors.actions_cancel import CANCELLED_ON_GITHUB, RunCancelling
from waterspider_tui.adapters.executors.actions_dispatch import PIPELINE_INPUT_LIMIT, RUNNER_STEPS, RunDispatch, runner_pipeline
from waterspider_tui.adapters.executors.actions_git import GitFromGitHub, web_url
from waterspider_tui.adapters.executors.actions_output import ARTIFACT_NAME, STREAM_FILE, RunOutput
from waterspider_tui.adapters.executors.actions_results import RunResults
from waterspider_tui.adapters.executors.actions_runs import (
    CORRELATION_PREFIX, EXIT_CODES, HOST_DOWN, TrackedRun, carries, correlation_id, exit_of, iso, parse_iso,
)
from waterspider_tui.adapters.executors.base import HostSlots, PreparedWorkspace, SessionPaths, WorkOrder
from waterspider_tui.adapters.github.errors import GitHubError
from waterspider_tui.adapters.workspace import branch_name
from waterspider_tui.core.models import HostStatus

if TYPE_CHECKING:
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.models import SessionInfo


class ActionsExecutor(RunDispatch, RunResults, RunOutput, RunCancelling, GitFromGitHub):
    """Runs each session as one `workflow_dispatch` run of `workflow` in `repo`."""

    def __init__(
        self, client: GitHubClient, repo: str, workflow: str, *, slots: int = 5, ref: str = "main",
        runner_labels: Sequence[str] = ("self-hosted",), queued_deadline_s: float = 900.0,
        poll_interval_s: float = 15.0, find_timeout_s: float = 60.0, name: str = "actions", host: str = "actions",
        worktrees_dir: str = "worktrees", live_log: bool = True, pipeline: Mapping[str, Any] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.repo = repo
        self.workflow = workflow
        self.ref = ref
        self.runner_labels = tuple(runner_labels)
        self.queued_deadline_s = queued_deadline_s
        """A run still queued this long after its dispatch has no runner: cancelled, reported host_down."""
        self.poll_interval_s = poll_interval_s
        """Runs are asked about no more often than this (the answers are conditional: 304s are free)."""
        self.find_timeout_s = find_timeout_s
        self.name = name
        self.host = host
        self.worktrees_dir = worktrees_dir
        self.slots = slots
        self.hosts = (HostSlots(name=host, slots=slots, labels=tuple(label.lower() for label in self.runner_labels)),)
        self._sleep = sleep
        self._clock = clock
        self.live_log = live_log
        """Follow each run's job log while it is in progress (github.com serves it; some servers only
        once the job ended). Without it the output arrives whole with the artifact at the end."""
        self.live_output = live_log
        self._tracked: dict[str, TrackedRun] = {}
        self._run_details = True
        """Whether dispatches ask for the run's id (False once a server refused the field)."""
        self.pipeline = runner_pipeline(pipeline) if pipeline is not None else None
        """The steps the runner runs after the agent, sent as the `pipeline` input; None sends no
        input (the workflow's repository variable WATERSPIDER_STEPS decides)."""
        self.replayed_steps = frozenset(pipeline.get("steps", ())) & frozenset(self.pipeline["steps"]) if pipeline is not None else frozenset()
        """The orchestrator's own steps that ran on the runner: each records the runner's outcome."""

    def locate(self, order: WorkOrder, host: str) -> SessionPaths:
        """A logical session id (the session's files live in the run, not on any disk of ours)."""
        branch = branch_name(order.number, order.repo, order.multi_repo)
        folder = branch.removeprefix("feature/")
        return SessionPaths(
            session_dir=f"actions:{order.repo or self.repo}/issue-{order.number}/attempt-{order.attempt}-{order.token}",
            worktree=f"{self.worktrees_dir}/{folder}",
            branch=branch,
        )

    def base_branch(self, session: SessionInfo) -> str:
        return f"origin/{self.ref}"

    async def prepare(self, session: SessionInfo) -> PreparedWorkspace:
        """Nothing to do here: the runner makes the worktree on the issue's branch."""
        return PreparedWorkspace(path=session.worktree, branch=session.branch, base=self.base_branch(session), reused=False)

    def output_live(self, session: SessionInfo) -> bool:
        """Whether the session's silence may be judged a stall now: only while its run is in progress,
        its log is followed and no step after the agent runs there (a queued run has no runner yet;
        its deadline is `queued_deadline_s`)."""
        tracked = self._tracked.get(session.session_id)
        return (self.live_log and tracked is not None and tracked.run is not None and tracked.run.get("status") == "in_progress"
                and not tracked.log.in_step)  # the gate's commands may take long on the runner, the agent silent meanwhile

    # -- hosts --------------------------------------------------------------------------------
    async def probe(self) -> list[HostStatus]:
        """Runners online and busy among those with our labels; a token that may not read runners
        (403/404) gives the one host, reachable, with its load unknown."""
        base = {"name": self.host, "slots_total": self.slots, "labels": self.hosts[0].labels, "probed_at": self._clock()}
        try:
            answer = await self.client.get(f"/repos/{self.repo}/actions/runners", {"per_page": 100})
        except GitHubError as error:
            if error.status in (403, 404):
                return [HostStatus(**base, reachable=True, error="")]
            return [HostStatus(**base, reachable=False, error=f"runners not read: {error}")]
        runners = answer.data.get("runners", []) if isinstance(answer.data, dict) else []
        wanted = {label.lower() for label in self.runner_labels}
        ours = [r for r in runners if wanted <= {str(label.get("name", "")).lower() for label in r.get("labels", [])}]
        online = [r for r in ours if r.get("status") == "online"]
        busy = sum(1 for r in online if r.get("busy"))
        if not online:
            return [HostStatus(**base, slots_used=0, reachable=False, error=f"no runner labelled {', '.join(self.runner_labels)} online")]
        return [HostStatus(**base, slots_used=min(busy, self.slots), reachable=True, load=float(busy), cores=len(online))]

    async def close(self) -> None:
        """The client belongs to whoever made it."""


__all__ = [
    "ARTIFACT_NAME", "CANCELLED_ON_GITHUB", "CORRELATION_PREFIX", "EXIT_CODES", "HOST_DOWN", "PIPELINE_INPUT_LIMIT",
    "RUNNER_STEPS", "STREAM_FILE", "ActionsExecutor", "carries", "correlation_id", "exit_of", "iso", "parse_iso",
    "runner_pipeline", "web_url",
]
