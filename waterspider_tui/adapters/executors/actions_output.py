"""The agent's output from a run: the job's log followed while the run is in progress, and the
run's `stream` artifact (the stream and the runner's session record) once it completed."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from waterspider_tui.adapters.executors.actions_runs import TrackedRun
from waterspider_tui.adapters.executors.actions_stream import RECORD_FILE, merge, round_of, round_output
from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.actions import ActionsExecutor
    from waterspider_tui.core.models import SessionInfo

log = logging.getLogger(__name__)

ARTIFACT_NAME = "stream"
STREAM_FILE = "stream.jsonl"


class RunOutput:
    """The executor's reading of the agent's output (mixed into ActionsExecutor)."""

    async def read_output(self: ActionsExecutor, session: SessionInfo, offset: int, limit: int = 1 << 20) -> bytes:
        """The agent's stream-json: from the job's log while the run is in progress, then from the
        run's `stream` artifact once it completed. An earlier round of a session (`ID.k`, an attempt
        of its own in the issue's history) reads its own part of the completed run's stream."""
        base_id, round_number = round_of(session.session_id)
        if round_number:
            return (await self._round_output(replace(session, session_id=base_id), round_number))[offset: offset + limit]
        tracked = self._tracked.setdefault(session.session_id, TrackedRun())
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

    async def _round_output(self: ActionsExecutor, session: SessionInfo, round_number: int) -> bytes:
        try:
            run = await self._run(session)
            if run is None or run.get("status") != "completed":
                return b""
            stream, record = await self._artifact(self._tracked[session.session_id], int(run["id"]))
        except (GitHubError, ExecutorError) as error:
            log.debug("%s: output of round %d of %s not read: %s", self.repo, round_number, session.session_id, error)
            return b""
        return round_output(record, stream, round_number)

    async def _follow_log(self: ActionsExecutor, tracked: TrackedRun, run_id: int) -> None:
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

    async def _artifact(self: ActionsExecutor, tracked: TrackedRun, run_id: int) -> tuple[bytes, dict[str, Any] | None]:
        """The run's stream and its session record (read once), from the `stream` artifact; b"" and
        None for what is missing."""
        if tracked.artifact is None:
            tracked.artifact = await self._read_artifact(run_id)
        return tracked.artifact

    async def _read_artifact(self: ActionsExecutor, run_id: int) -> tuple[bytes, dict[str, Any] | None]:
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
