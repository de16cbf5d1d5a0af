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
"""

from __future__ import annotations

import asyncio
import calendar
import io
import json
import logging
import time
import zipfile
from urllib.parse import quote
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence

from waterspider_tui.adapters.executors.actions_stream import (
    RECORD_FILE, StreamLog, final_steps, merge, round_of, round_output, round_results, step_failure,
)
from waterspider_tui.adapters.executors.base import (
    CommandResult, ExecutorError, ExitStatus, HostSlots, PreparedWorkspace, SessionPaths, SessionState, WorkOrder,
)
from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.pipeline.base import StepOutcome
from waterspider_tui.adapters.workspace import branch_name
from waterspider_tui.core.models import HostStatus

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import LaunchSpec
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.core.models import SessionInfo

log = logging.getLogger(__name__)

HOST_DOWN = "host_down"
CANCELLED_ON_GITHUB = "cancelled on GitHub"
"""Why a session ended whose run someone cancelled on GitHub (its page, the API), as `cancelled by operator` is an `x`'s."""
ARTIFACT_NAME = "stream"
STREAM_FILE = "stream.jsonl"
CORRELATION_PREFIX = "ws-"
EXIT_CODES: dict[str, int | None] = {"success": 0, "neutral": 0, "failure": 1, "startup_failure": 1}
"""A completed run's conclusion as the agent's return code; anything else (cancelled, timed_out,
skipped, stale, action_required) is None: the session did not end on its own."""


def correlation_id(session_id: str) -> str:
    """The token the workflow's `run-name` shows, by which a run is told apart from every other."""
    return f"{CORRELATION_PREFIX}{session_id}"


def carries(run: Mapping[str, Any], correlation: str) -> bool:
    """Whether the run's name or display title holds `correlation` as a whole word."""
    for key in ("display_title", "name"):
        words = str(run.get(key) or "").replace("(", " ").replace(")", " ").replace(",", " ").split()
        if correlation in words:
            return True
    return False


RUNNER_STEPS = ("commits", "gate", "push")
"""The steps that need the session's worktree, so they run on the runner; the others (the pull
request) run here, through the API."""
PIPELINE_INPUT_LIMIT = 65_535
"""GitHub refuses a dispatch whose inputs are longer than this, all together."""


def runner_pipeline(pipeline: Mapping[str, Any]) -> dict[str, Any]:
    """What the runner's `exec-issue --pipeline` gets of the orchestrator's `[pipeline]`: its steps
    that need the worktree, in their order, and their tables. The push is always among them (the
    runner's worktree is gone after the job, so a branch not pushed is lost), to `origin`."""
    steps = [name for name in pipeline.get("steps", ()) if name in RUNNER_STEPS]
    if "push" not in steps:
        steps.append("push")
    push = {**dict(pipeline.get("push") or {}), "remote": (pipeline.get("push") or {}).get("remote") or "origin"}
    runner: dict[str, Any] = {"steps": steps, "push": push}
    if "gate" in steps and pipeline.get("gate"):
        runner["gate"] = dict(pipeline["gate"])
    return runner


def exit_of(run: Mapping[str, Any], ended: float) -> ExitStatus:
    conclusion = str(run.get("conclusion") or "")
    error = f"the run ended {conclusion}" if conclusion in ("startup_failure", "action_required") else ""
    return ExitStatus(returncode=EXIT_CODES.get(conclusion), ended=ended, error=error)


def _words(args: Sequence[str]) -> list[str]:
    """A git command line without its leading `-c NAME=VALUE` pairs and its options."""
    rest = list(args)
    while len(rest) >= 2 and rest[0] == "-c":
        rest = rest[2:]
    return [arg for arg in rest if not arg.startswith("-")]


def _range(spec: str, separator: str) -> tuple[str, str]:
    base, _, branch = spec.partition(separator)
    return base, branch


def web_url(api_url: str) -> str:
    """The web host of an API root: api.github.com -> github.com, https://HOST/api/v3 -> https://HOST."""
    root = api_url.rstrip("/")
    if root.endswith("/api/v3"):
        return root[: -len("/api/v3")]
    return root.replace("://api.github.com", "://github.com")


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_iso(text: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except (TypeError, ValueError):
        return None


@dataclass
class _Tracked:
    """What this executor knows about one session's run."""

    run_id: int | None = None
    html_url: str = ""
    dispatched_at: float = 0.0
    polled_at: float = float("-inf")
    run: dict[str, Any] | None = None
    output: bytes | None = None
    """The whole stream, once the run completed (the artifact after what the log showed)."""
    job_id: int | None = None
    log: StreamLog = field(default_factory=StreamLog)
    shown: bytearray = field(default_factory=bytearray)
    """The stream-json lines taken out of the job's log so far."""
    log_read_at: float = float("-inf")
    artifact: tuple[bytes, dict[str, Any] | None] | None = None
    """The `stream` artifact once read: the stream, and how the session ended on the runner."""
    cancel_reason: str = ""
    """Why this executor asked GitHub to cancel the run; empty while it has not."""


class ActionsExecutor:
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
        self._tracked: dict[str, _Tracked] = {}
        self._run_details = True
        """Whether dispatches ask for the run's id (False once a server refused the field)."""
        self.pipeline = runner_pipeline(pipeline) if pipeline is not None else None
        """The steps the runner runs after the agent, sent as the `pipeline` input; None sends no
        input (the workflow's repository variable WATERSPIDER_STEPS decides)."""
        self.replayed_steps = frozenset(pipeline.get("steps", ())) & frozenset(self.pipeline["steps"]) if pipeline is not None else frozenset()
        """The orchestrator's own steps that ran on the runner: each records the runner's outcome."""

    # -- placement and paths ------------------------------------------------------------------
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

    # -- running ------------------------------------------------------------------------------
    def _inputs(self, session: SessionInfo) -> dict[str, str]:
        number = session.issue.rsplit("#", 1)[-1]
        inputs = {
            "issue": number, "agent": session.agent, "session": session.session_id, "attempt": str(session.attempt),
            "branch": session.branch, "correlation": correlation_id(session.session_id),
        }
        if self.pipeline is not None:
            inputs["pipeline"] = json.dumps(self.pipeline, separators=(",", ":"))
        return inputs

    async def start(self, session: SessionInfo, spec: LaunchSpec) -> int | None:
        """Dispatch the workflow; the run's id comes from the answer (200) or the correlation search (204).

        Returns None: there is no pid, the run is known by its id.
        """
        tracked = self._tracked.setdefault(session.session_id, _Tracked())
        tracked.dispatched_at = self._clock()
        body: dict[str, Any] = {"ref": self.ref, "inputs": self._inputs(session)}
        if sum(len(value) for value in body["inputs"].values()) > PIPELINE_INPUT_LIMIT:
            raise ExecutorError(
                f"{self.repo}: the [pipeline] settings are too long for a workflow_dispatch input "
                f"({PIPELINE_INPUT_LIMIT} characters at most): shorten the gate's commands (a script in the repository)",
                error_class="workspace",
            )
        if self._run_details:
            body["return_run_details"] = True
        path = f"/repos/{self.repo}/actions/workflows/{self.workflow}/dispatches"
        try:
            try:
                answer = await self.client.post(path, body)
            except GitHubError as error:
                if error.status != 400 or not self._run_details:
                    raise
                # GitHub Enterprise Server up to 3.20 rejects the unknown field; nothing was dispatched.
                log.info("%s: the server does not know return_run_details; dispatching without it", self.repo)
                self._run_details = False
                body.pop("return_run_details")
                answer = await self.client.post(path, body)
        except GitHubError as error:
            if error.status == 422 and "pipeline" in str(error) and "Unexpected inputs" in str(error):
                raise ExecutorError(
                    f"{self.repo}: {self.workflow} has no `pipeline` input, which carries the [pipeline] steps and gate to the "
                    f"runner: copy the current examples/github-actions/agent-execute.yml to .github/workflows/ on {self.ref}",
                    error_class="crashed",
                ) from error
            raise ExecutorError(f"{self.repo}: cannot dispatch {self.workflow}: {error}", error_class="crashed") from error
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.status == 200 and data.get("workflow_run_id"):
            tracked.run_id = int(data["workflow_run_id"])
            tracked.html_url = str(data.get("html_url") or "")
            log.info("%s: session %s is run %s (%s)", self.repo, session.session_id, tracked.run_id, data.get("html_url", ""))
            return None
        deadline = self._clock() + self.find_timeout_s
        while True:
            run = await self._find_run(session, since=tracked.dispatched_at - 120.0)
            if run is not None:
                tracked.run_id, tracked.html_url = int(run["id"]), str(run.get("html_url") or "")
                return None
            if self._clock() >= deadline:
                raise ExecutorError(
                    f"{self.repo}: dispatched {self.workflow} but no run named {correlation_id(session.session_id)} "
                    f"appeared within {self.find_timeout_s:.0f}s (does the workflow's run-name show inputs.correlation?)",
                    error_class="crashed",
                )
            await self._sleep(min(self.poll_interval_s, 5.0))

    async def _find_run(self, session: SessionInfo, since: float | None = None, max_pages: int = 10) -> dict[str, Any] | None:
        """The run carrying this session's correlation id among the workflow's dispatched runs
        created since `since` (GitHub's `created>=`), following `Link` pages."""
        params: dict[str, Any] = {"event": "workflow_dispatch", "per_page": 100}
        if since is not None:
            params["created"] = f">={iso(since)}"
        correlation = correlation_id(session.session_id)
        url: str | None = self.client.url(f"/repos/{self.repo}/actions/workflows/{self.workflow}/runs", params)
        for _ in range(max_pages):
            if url is None:
                break
            answer = await self.client.get(url)
            runs = answer.data.get("workflow_runs", []) if isinstance(answer.data, dict) else []
            found = next((run for run in runs if isinstance(run, dict) and carries(run, correlation)), None)
            if found is not None:
                return found
            url = answer.next_url
        return None

    def external_reference(self, session: SessionInfo) -> tuple[str, str]:
        """The session's run id and web address once known, for the engine to record with the session."""
        tracked = self._tracked.get(session.session_id)
        if tracked is None or tracked.run_id is None:
            return "", ""
        return str(tracked.run_id), tracked.html_url

    async def _run_id(self, session: SessionInfo) -> int | None:
        tracked = self._tracked.setdefault(session.session_id, _Tracked())
        if tracked.run_id is None and session.external_id.isdigit():  # after a restart: the id the store recorded
            tracked.run_id, tracked.html_url = int(session.external_id), session.external_url
        if tracked.run_id is None:
            started = getattr(session, "started_at", 0.0) or 0.0  # recorded without an id: found again by its name
            run = await self._find_run(session, since=started - 600.0 if started > 0 else None)
            if run is not None:
                tracked.run_id, tracked.html_url = int(run["id"]), str(run.get("html_url") or "")
                tracked.dispatched_at = parse_iso(str(run.get("created_at", ""))) or self._clock()
        return tracked.run_id

    async def _run(self, session: SessionInfo) -> dict[str, Any] | None:
        """The run as last seen, asked again only once `poll_interval_s` passed since the last ask."""
        run_id = await self._run_id(session)
        if run_id is None:
            return None
        tracked = self._tracked[session.session_id]
        if tracked.run is None or self._clock() - tracked.polled_at >= self.poll_interval_s:
            answer = await self.client.get(f"/repos/{self.repo}/actions/runs/{run_id}")
            tracked.run = answer.data if isinstance(answer.data, dict) else {}
            tracked.polled_at = self._clock()
            if not tracked.dispatched_at:  # found again by its recorded id: its queued deadline counts from its creation
                tracked.dispatched_at = parse_iso(str(tracked.run.get("created_at", ""))) or self._clock()
            tracked.html_url = tracked.html_url or str(tracked.run.get("html_url") or "")
        return tracked.run

    async def state(self, session: SessionInfo) -> SessionState:
        try:
            run = await self._run(session)
        except GitHubError as error:
            raise ExecutorError(f"{self.repo}: cannot read the run of {session.session_id}: {error}", error_class=HOST_DOWN) from error
        if run is None:
            return SessionState(alive=False, spawned=False)
        if run.get("status") == "completed":
            status = exit_of(run, self._clock())
            if run.get("conclusion") == "cancelled":
                try:
                    superseded, why = await self._who_cancelled(session, run)
                    by_hand = not superseded and not self._tracked[session.session_id].cancel_reason
                    status = replace(status, error=why, cancelled=CANCELLED_ON_GITHUB if by_hand else "")
                except GitHubError as error:
                    log.debug("%s: who cancelled run %s not found out: %s", self.repo, run.get("id"), error)
            return SessionState(alive=False, exit=status)
        return SessionState(alive=True)

    async def _who_cancelled(self, session: SessionInfo, run: Mapping[str, Any]) -> tuple[bool, str]:
        """Why a cancelled run was, and whether a newer run of the issue superseded it: this executor's
        own reason, GitHub's concurrency rule (a newer run of the same issue queued while this one
        was pending), or someone on GitHub."""
        tracked = self._tracked.get(session.session_id)
        if tracked is not None and tracked.cancel_reason:
            return False, f"run {run.get('id')} cancelled by waterspider: {tracked.cancel_reason}"
        newer = await self._newer_run_of_the_issue(session, run)
        if newer is not None:
            return True, (f"run {run.get('id')} was cancelled by GitHub while pending: run {newer.get('id')} of the same issue "
                          "was queued after it, and the issue's concurrency group keeps one pending run")
        return False, f"run {run.get('id')} was cancelled on GitHub, not by waterspider"

    async def _newer_run_of_the_issue(self, session: SessionInfo, run: Mapping[str, Any]) -> dict[str, Any] | None:
        """A run of the workflow for the same issue (`#N` in its name, as `run-name` shows it) created after `run`."""
        created = parse_iso(str(run.get("created_at", "")))
        params: dict[str, Any] = {"event": "workflow_dispatch", "per_page": 100}
        if created is not None:
            params["created"] = f">={iso(created)}"
        answer = await self.client.get(f"/repos/{self.repo}/actions/workflows/{self.workflow}/runs", params)
        runs = answer.data.get("workflow_runs", []) if isinstance(answer.data, dict) else []
        issue_word = f"#{session.issue.rsplit('#', 1)[-1]}"
        return next((other for other in runs if isinstance(other, dict) and int(other.get("id", 0)) > int(run.get("id", 0))
                     and carries(other, issue_word)), None)

    async def wait(self, session: SessionInfo) -> ExitStatus:
        """Poll the run until it completed; a run queued past `queued_deadline_s` is cancelled (host_down)."""
        while True:
            try:
                run = await self._run(session)
            except (GitHubUnavailable, RateLimited) as error:  # GitHub away for a while: the run goes on
                log.warning("%s: run of %s not read, asking again: %s", self.repo, session.session_id, error)
                until = getattr(error, "until", None)
                await self._sleep(max(self.poll_interval_s, (until or 0.0) - self._clock()))
                continue
            except GitHubError as error:
                raise ExecutorError(f"{self.repo}: the run of {session.session_id} cannot be read: {error}", error_class="crashed") from error
            if run is None:
                raise ExecutorError(f"{self.repo}: no run found for session {session.session_id}", error_class="crashed")
            tracked = self._tracked[session.session_id]
            if run.get("status") == "completed":
                status = await self._exit_with_steps(session, run)
                if run.get("conclusion") == "cancelled" and not tracked.cancel_reason:
                    # Superseded raises (placed again); otherwise someone cancelled it on GitHub.
                    await self._cancelled_elsewhere(session, run)
                    return replace(status, error_class="", cancelled=CANCELLED_ON_GITHUB)
                return status
            queued_for = self._clock() - tracked.dispatched_at
            if run.get("status") in ("queued", "waiting", "pending", "requested") and queued_for >= self.queued_deadline_s:
                await self._cancel(session, tracked.run_id, f"still {run.get('status')} after {queued_for:.0f}s: no runner took it")
                raise ExecutorError(
                    f"{self.repo}: run {tracked.run_id} stayed queued for {queued_for:.0f}s: no runner labelled "
                    f"{', '.join(self.runner_labels)} took it; cancelled", error_class=HOST_DOWN,
                )
            await self._sleep(self.poll_interval_s)

    async def _cancelled_elsewhere(self, session: SessionInfo, run: Mapping[str, Any]) -> str:
        """Why a run was cancelled without this executor asking. One GitHub cancelled for a newer run
        of the issue is superseded, which no agent or operator did: raised as host_down (placed
        again, not charged)."""
        try:
            superseded, why = await self._who_cancelled(session, run)
        except GitHubError as error:
            log.warning("%s: who cancelled run %s not found out: %s", self.repo, run.get("id"), error)
            return f"run {run.get('id')} was cancelled on GitHub, not by waterspider"
        log.warning("%s: session %s: %s", self.repo, session.session_id, why)
        if superseded:
            raise ExecutorError(f"{self.repo}: {why}", error_class=HOST_DOWN)
        return why

    async def _exit_with_steps(self, session: SessionInfo, run: Mapping[str, Any]) -> ExitStatus:
        """The run's exit; a step after the agent that failed on the runner (the gate, the push) fails
        the session with its class, whatever the agent's stream says. A failed step the orchestrator
        has too fails it there instead, as that step's own outcome (`step_outcome`), and the exit is
        the agent's (the run's conclusion is exec-issue's, which the step failed)."""
        status = exit_of(run, self._clock())
        try:
            _, record = await self._artifact(self._tracked[session.session_id], int(run["id"]))
        except GitHubError as error:
            log.warning("%s: the record of run %s not read: %s", self.repo, run.get("id"), error)
            return status
        earlier, last = round_results(record, session.session_id, session.attempt)
        if earlier and last is not None:  # the gate's rounds on the runner: the stream holds them all
            status = replace(status, earlier_rounds=earlier, last_round_cost_usd=float(last.get("cost_usd") or 0.0),
                             last_round_turns=int(last.get("turns") or 0))
        error_class, error = step_failure(record, except_steps=self.replayed_steps)
        if error_class:
            return replace(status, error=error, error_class=error_class)
        agent_exit = record.get("agent_exit_code") if record else None
        if record and record.get("failed_step") in self.replayed_steps and isinstance(agent_exit, int):
            return replace(status, returncode=agent_exit)
        return status

    async def step_outcome(self, session: SessionInfo, step: str) -> StepOutcome | None:
        """How `step` went on the runner in the session's last round, for the orchestrator's step of
        that name to record as its own; None when it did not run there (the step runs here)."""
        if step not in self.replayed_steps:
            return None
        try:
            run_id = await self._run_id(session)
            if run_id is None:
                return None
            _, record = await self._artifact(self._tracked[session.session_id], run_id)
        except GitHubError as error:
            raise ExecutorError(f"{self.repo}: the runner's record of {step} (run of {session.session_id}) cannot be read: {error}", error_class=HOST_DOWN) from error
        if record is None:
            if step != "gate":
                return None  # counted or checked from here through the API, as before records were kept
            return StepOutcome(ok=False, summary=f"gate ran on the runner, and the run left no {RECORD_FILE} saying how it went",
                               error_class="gate_failed")
        ran = final_steps(record).get(step)
        if ran is None:
            return None
        facts = {name: value for name, value in dict(ran.get("facts") or {}).items() if isinstance(value, (int, float, str))}
        rounds = int(record.get("rounds") or 1)
        if step == "gate" and rounds > 1:
            facts["gate_rounds_on_runner"] = rounds
        return StepOutcome(ok=bool(ran.get("ok")), summary=str(ran.get("summary") or ""), error_class=str(ran.get("error_class") or ""), facts=facts)

    async def read_output(self, session: SessionInfo, offset: int, limit: int = 1 << 20) -> bytes:
        """The agent's stream-json: from the job's log while the run is in progress, then from the
        run's `stream` artifact once it completed. An earlier round of a session (`ID.k`, an attempt
        of its own in the issue's history) reads its own part of the completed run's stream."""
        base_id, round_number = round_of(session.session_id)
        if round_number:
            return (await self._round_output(replace(session, session_id=base_id), round_number))[offset: offset + limit]
        tracked = self._tracked.setdefault(session.session_id, _Tracked())
        if tracked.output is None:
            try:
                run = await self._run(session)
                if run is not None and run.get("status") == "completed":
                    complete, _ = await self._artifact(tracked, int(run["id"]))
                    tracked.output = merge(bytes(tracked.shown), complete) if complete else bytes(tracked.shown)
                elif run is not None and run.get("status") == "in_progress" and self.live_log:
                    await self._follow_log(tracked, int(run["id"]))
            except (GitHubError, ExecutorError) as error:
                log.debug("%s: output of %s not read: %s", self.repo, session.session_id, error)
        source = tracked.output if tracked.output is not None else tracked.shown
        return bytes(source[offset: offset + limit])

    async def _round_output(self, session: SessionInfo, round_number: int) -> bytes:
        try:
            run = await self._run(session)
            if run is None or run.get("status") != "completed":
                return b""
            stream, record = await self._artifact(self._tracked[session.session_id], int(run["id"]))
        except (GitHubError, ExecutorError) as error:
            log.debug("%s: output of round %d of %s not read: %s", self.repo, round_number, session.session_id, error)
            return b""
        return round_output(record, stream, round_number)

    async def _follow_log(self, tracked: _Tracked, run_id: int) -> None:
        """Read the job's log on from where the last read ended, no more often than runs are polled."""
        if self._clock() - tracked.log_read_at < self.poll_interval_s:
            return
        tracked.log_read_at = self._clock()
        if tracked.job_id is None:
            answer = await self.client.get(f"/repos/{self.repo}/actions/runs/{run_id}/jobs")
            jobs = answer.data.get("jobs", []) if isinstance(answer.data, dict) else []
            if not jobs:
                return
            tracked.job_id = int(jobs[0]["id"])  # the workflow has one job: the session's
        try:
            chunk = await self.client.download_from(f"/repos/{self.repo}/actions/jobs/{tracked.job_id}/logs", tracked.log.offset)
        except GitHubError as error:
            if error.status == 404:  # the job has not started writing its log yet
                return
            raise
        for line in tracked.log.feed(chunk):
            tracked.shown += line

    async def _artifact(self, tracked: _Tracked, run_id: int) -> tuple[bytes, dict[str, Any] | None]:
        """The run's stream and its session record (read once), from the `stream` artifact; b"" and
        None for what is missing."""
        if tracked.artifact is None:
            tracked.artifact = await self._read_artifact(run_id)
        return tracked.artifact

    async def _read_artifact(self, run_id: int) -> tuple[bytes, dict[str, Any] | None]:
        answer = await self.client.get(f"/repos/{self.repo}/actions/runs/{run_id}/artifacts", {"name": ARTIFACT_NAME})
        artifacts = answer.data.get("artifacts", []) if isinstance(answer.data, dict) else []
        found = next((a for a in artifacts if a.get("name") == ARTIFACT_NAME and not a.get("expired")), None)
        if found is None:
            return b"", None
        blob = await self.client.download(f"/repos/{self.repo}/actions/artifacts/{found['id']}/zip")
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                names = set(archive.namelist())
                stream = archive.read(STREAM_FILE) if STREAM_FILE in names else b""
                record = json.loads(archive.read(RECORD_FILE)) if RECORD_FILE in names else None
        except (zipfile.BadZipFile, ValueError) as error:
            log.warning("%s: artifact %s of run %s cannot be read: %s", self.repo, found["id"], run_id, error)
            return b"", None
        if not stream:
            log.warning("%s: artifact %s of run %s has no %s", self.repo, found["id"], run_id, STREAM_FILE)
        return stream, record if isinstance(record, dict) else None

    async def stop(self, session: SessionInfo, grace_s: float) -> None:
        """Cancel the run through the API (GitHub itself stops the job on the runner)."""
        try:
            run_id = await self._run_id(session)
        except GitHubError as error:
            log.warning("%s: cannot find the run of %s to cancel it: %s", self.repo, session.session_id, error)
            return
        if run_id is not None:
            await self._cancel(session, run_id, "the session was stopped")

    async def _cancel(self, session: SessionInfo, run_id: int | None, reason: str) -> None:
        tracked = self._tracked.setdefault(session.session_id, _Tracked())
        asked_before = tracked.cancel_reason
        tracked.cancel_reason = asked_before or reason  # set before the answer: the run may be seen cancelled first
        try:
            await self.client.post(f"/repos/{self.repo}/actions/runs/{run_id}/cancel")
        except GitHubError as error:
            if error.status != 409:  # 409: the run completed already
                log.warning("%s: could not cancel run %s of %s: %s", self.repo, run_id, session.session_id, error)
                tracked.cancel_reason = asked_before  # not cancelled by us: a later cancel is someone else's
        tracked.polled_at = float("-inf")  # the next look asks again

    async def git(self, session: SessionInfo, *args: str, timeout_s: float = 60.0) -> CommandResult:
        """The worktree lives on the runner, which commits and pushes the issue branch itself, so the
        questions the steps after the agent ask are answered from the pushed branch on GitHub:

        - `rev-list --count BASE..BRANCH`: the compare API's `ahead_by` (0 when nothing was pushed);
        - `diff --name-only` / `diff --numstat BASE...BRANCH`: the compare API's files;
        - `rev-parse --verify ... refs/heads/BRANCH`: the branch's head (returncode 1 when absent);
        - `remote get-url NAME`: the repository's clone URL.

        Anything else (the push itself included: the run pushed already) answers returncode 0 with
        empty output; nothing runs here.
        """
        words = _words(args)
        try:
            if words[:1] == ["rev-list"] and "--count" in args:
                base, branch = _range(args[-1], "..")
                compare = await self._compare(base, branch)
                return CommandResult(0, f"{int(compare.get('ahead_by', 0)) if compare else 0}\n")
            if words[:1] == ["diff"] and ("--name-only" in args or "--numstat" in args):
                base, branch = _range(args[-1], "...")
                compare = await self._compare(base, branch)
                files = compare.get("files", []) if compare else []
                if "--name-only" in args:
                    return CommandResult(0, "".join(f"{f.get('filename', '')}\n" for f in files))
                return CommandResult(0, "".join(f"{f.get('additions', 0)}\t{f.get('deletions', 0)}\t{f.get('filename', '')}\n" for f in files))
            if words[:1] == ["rev-parse"]:
                ref = args[-1].removeprefix("refs/heads/")
                try:
                    answer = await self.client.get(f"/repos/{self.repo}/branches/{quote(ref, safe='/')}")
                except GitHubError as error:
                    if error.status == 404:
                        return CommandResult(1, "", f"no branch {ref} on {self.repo}")
                    raise
                sha = answer.data.get("commit", {}).get("sha", "") if isinstance(answer.data, dict) else ""
                return CommandResult(0, f"{sha}\n")
            if words[:2] == ["remote", "get-url"]:
                return CommandResult(0, f"{web_url(self.client.api_url)}/{self.repo}.git\n")
        except GitHubError as error:
            return CommandResult(1, "", f"git {' '.join(args)} answered from GitHub failed: {error}")
        return CommandResult(returncode=0, stdout="")

    async def _compare(self, base: str, branch: str) -> dict[str, Any] | None:
        """GitHub's comparison of `base` and `branch`; None when the branch was never pushed."""
        base = base.removeprefix("origin/").removeprefix("refs/heads/")
        branch = branch.removeprefix("origin/").removeprefix("refs/heads/")
        try:
            answer = await self.client.get(f"/repos/{self.repo}/compare/{quote(base, safe='/')}...{quote(branch, safe='/')}")
        except GitHubError as error:
            if error.status == 404:
                return None
            raise
        return answer.data if isinstance(answer.data, dict) else None

    async def run(
        self, session: SessionInfo, argv: Sequence[str], timeout_s: float, *,
        env: Mapping[str, str] | None = None, output_limit: int = 64_000,
    ) -> CommandResult:
        """Not supported: commands in the worktree belong in the workflow's steps."""
        program = argv[0] if argv else "?"
        return CommandResult(
            returncode=127, stdout="",
            stderr=f"{program}: the actions executor cannot run commands in a runner's worktree; add it as a step of {self.workflow}",
        )

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
