"""Cancelling a session's run, and telling who cancelled a run that ended cancelled: this executor
(its reason kept), GitHub's concurrency rule for a newer run of the issue (superseded: host_down),
or someone on GitHub (the session ends `cancelled on GitHub`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Mapping

from waterspider_tui.adapters.executors.actions_runs import HOST_DOWN, TrackedRun, carries, iso, parse_iso
from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.github.errors import GitHubError

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.actions import ActionsExecutor
    from waterspider_tui.core.models import SessionInfo

log = logging.getLogger(__name__)

CANCELLED_ON_GITHUB = "cancelled on GitHub"
"""Why a session ended whose run someone cancelled on GitHub (its page, the API), as `cancelled by operator` is an `x`'s."""


class RunCancelling:
    """The executor's cancels and its reading of cancelled runs (mixed into ActionsExecutor)."""

    async def stop(self: ActionsExecutor, session: SessionInfo, grace_s: float) -> None:
        """Cancel the run through the API (GitHub itself stops the job on the runner)."""
        try:
            run_id = await self._run_id(session)
        except GitHubError as error:
            log.warning("%s: cannot find the run of %s to cancel it: %s", self.repo, session.session_id, error)
            return
        if run_id is not None:
            await self._cancel(session, run_id, "the session was stopped")

    async def _cancel(self: ActionsExecutor, session: SessionInfo, run_id: int | None, reason: str) -> None:
        tracked = self._tracked.setdefault(session.session_id, TrackedRun())
        asked_before = tracked.cancel_reason
        tracked.cancel_reason = asked_before or reason  # set before the answer: the run may be seen cancelled first
        try:
            await self.client.post(f"/repos/{self.repo}/actions/runs/{run_id}/cancel")
        except GitHubError as error:
            if error.status != 409:  # 409: the run completed already
                log.warning("%s: could not cancel run %s of %s: %s", self.repo, run_id, session.session_id, error)
                tracked.cancel_reason = asked_before  # not cancelled by us: a later cancel is someone else's
        tracked.polled_at = float("-inf")  # the next look asks again

    async def _who_cancelled(self: ActionsExecutor, session: SessionInfo, run: Mapping[str, Any]) -> tuple[bool, str]:
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

    async def _newer_run_of_the_issue(self: ActionsExecutor, session: SessionInfo, run: Mapping[str, Any]) -> dict[str, Any] | None:
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

    async def _cancelled_elsewhere(self: ActionsExecutor, session: SessionInfo, run: Mapping[str, Any]) -> str:
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
