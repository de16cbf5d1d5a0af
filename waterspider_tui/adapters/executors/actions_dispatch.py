"""Dispatching a session's workflow run and finding the run again: by the id the dispatch answers,
by the id recorded with the session after a restart, or by its correlation id in the runs' names;
and the run's state, asked for no more often than the polling pace."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Mapping

from waterspider_tui.adapters.executors.actions_runs import TrackedRun, carries, correlation_id, iso, parse_iso
from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import LaunchSpec
    from waterspider_tui.adapters.executors.actions import ActionsExecutor
    from waterspider_tui.core.models import SessionInfo

log = logging.getLogger(__name__)

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


class RunDispatch:
    """The executor's dispatch and run correlation (mixed into ActionsExecutor)."""

    def _inputs(self: ActionsExecutor, session: SessionInfo) -> dict[str, str]:
        number = session.issue.rsplit("#", 1)[-1]
        inputs = {
            "issue": number, "agent": session.agent, "session": session.session_id, "attempt": str(session.attempt),
            "branch": session.branch, "correlation": correlation_id(session.session_id),
        }
        if self.pipeline is not None:
            inputs["pipeline"] = json.dumps(self.pipeline, separators=(",", ":"))
        return inputs

    async def start(self: ActionsExecutor, session: SessionInfo, spec: LaunchSpec) -> int | None:
        """Dispatch the workflow; the run's id comes from the answer (200) or the correlation search (204).

        Returns None: there is no pid, the run is known by its id.
        """
        tracked = self._tracked.setdefault(session.session_id, TrackedRun())
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

    async def _find_run(self: ActionsExecutor, session: SessionInfo, since: float | None = None, max_pages: int = 10) -> dict[str, Any] | None:
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

    def external_reference(self: ActionsExecutor, session: SessionInfo) -> tuple[str, str]:
        """The session's run id and web address once known, for the engine to record with the session."""
        tracked = self._tracked.get(session.session_id)
        if tracked is None or tracked.run_id is None:
            return "", ""
        return str(tracked.run_id), tracked.html_url

    async def _run_id(self: ActionsExecutor, session: SessionInfo) -> int | None:
        tracked = self._tracked.setdefault(session.session_id, TrackedRun())
        if tracked.run_id is None and session.external_id.isdigit():  # after a restart: the id the store recorded
            tracked.run_id, tracked.html_url = int(session.external_id), session.external_url
        if tracked.run_id is None:
            started = getattr(session, "started_at", 0.0) or 0.0  # recorded without an id: found again by its name
            run = await self._find_run(session, since=started - 600.0 if started > 0 else None)
            if run is not None:
                tracked.run_id, tracked.html_url = int(run["id"]), str(run.get("html_url") or "")
                tracked.dispatched_at = parse_iso(str(run.get("created_at", ""))) or self._clock()
        return tracked.run_id

    async def _run(self: ActionsExecutor, session: SessionInfo) -> dict[str, Any] | None:
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
