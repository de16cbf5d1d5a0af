"""The milestone integrator as a sink: when the last issue of a milestone is done, integrate and publish it.

It reads the store like every sink (its own cursor, retries, resumes after a restart). Which
issue completed a milestone is decided from the snapshot (`core.milestones.completed_by`), so a
batch offered again integrates once more at most, and that is harmless: an integration branch
that already holds every issue's work is reused, and publishing updates what is there.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping, Protocol, Sequence

from waterspider_tui.adapters.github.errors import GitHubError, GitHubUnavailable, RateLimited
from waterspider_tui.adapters.integration.branches import BranchIntegrator
from waterspider_tui.adapters.integration.closing import MilestoneCloser, awaiting_merge
from waterspider_tui.adapters.integration.members import member_branches
from waterspider_tui.adapters.integration.gate_hook import PipelineGate
from waterspider_tui.adapters.integration.host_branches import HostBranches
from waterspider_tui.adapters.integration.publish import MilestonePublisher
from waterspider_tui.adapters.integration.reported import MilestoneReport, integration_event
from waterspider_tui.adapters.integration.unpublished import not_published_reason
from waterspider_tui.adapters.integration.rework import MAX_REWORKS, prepare_rework
from waterspider_tui.adapters.sinks.base import SinkUnavailable
from waterspider_tui.core import events as ev
from waterspider_tui.core.milestones import DoneWhen, completed_by, milestone_progress, milestones_of
from waterspider_tui.core.models import Outcome

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.ssh_config import HostConfig
    from waterspider_tui.adapters.github.client import GitHubClient
    from waterspider_tui.adapters.integration.outcome import Integration
    from waterspider_tui.adapters.integration.gate_hook import IntegrationGate
    from waterspider_tui.core.milestones import MilestoneProgress
    from waterspider_tui.core.state import Snapshot


class MilestonesSettings(Protocol):
    """What `build_milestone_sink` reads of `[milestones]` (`config.MilestonesSection` has this shape)."""

    enabled: bool
    done_when: DoneWhen
    branch_prefix: str
    base_branch: str | None
    remote: str
    gate: bool
    publish: Literal["pull_request", "milestone", "none"]
    draft: bool
    labels: Sequence[str]
    close_when_merged: bool
    on_conflict: Literal["report", "requeue_rebased"]


class MilestoneSink:
    """A `Sink`: integrates each milestone its batch completes, then publishes the result (by config).

    `deliver` returns one event per milestone it integrated (`MilestoneIntegrated`,
    `MilestoneConflict` or `MilestoneBlocked`), which the outbox stores through the engine, so
    the notifiers, `status` and the control center read the same record; a conflict names the
    two issues, the files and the merge base.
    """

    def __init__(
        self, integrator: BranchIntegrator, *, publisher: MilestonePublisher | None = None,
        gate: IntegrationGate | None = None, done_when: DoneWhen = "succeeded", repos: Iterable[str] | None = None,
        name: str = "milestones", clock: Callable[[], float] = time.time,
        closer: MilestoneCloser | None = None, check_interval_s: float = 10.0, on_conflict: Literal["report", "requeue_rebased"] = "report",
        publish_repo: str = "", unpublished: str = "",
    ) -> None:
        self.name = name
        self.publish_repo = publish_repo
        """Where a local folder's milestones are published (`[pipeline.pull_request] repo`); its issues are not GitHub's."""
        self.unpublished = unpublished
        """Why nothing is published though publishing is asked for (no token), said with each integration."""
        self.integrator = integrator
        self.publisher = publisher
        self.gate = gate
        self.done_when: DoneWhen = done_when
        self.repos = {repo.lower() for repo in repos} if repos is not None else None
        """Repositories whose milestones are integrated here (all when None)."""
        self.clock = clock
        self.on_conflict = on_conflict
        """`requeue_rebased`: the later issue of a conflict goes back to its agent on top of the integration branch."""
        self.part_of_the_run = True
        """A run that stops when idle integrates first (`Outbox.keeps_run_busy`): what it reports is announced,
        and a conflict may send an issue back to its agent."""
        self.closer = closer
        """Closes a milestone once its integration pull request is merged (`close_when_merged`)."""
        self.check_interval_s = check_interval_s
        self._next_check: float | None = 0.0 if closer is not None else None
        """When the merged state is asked about next; 0: at the first chance (after a start), None: nothing to ask."""
        self.results: list[Integration] = []
        """What this process integrated, newest last (for tests and the report)."""

    def wants(self, event: ev.Event) -> bool:
        if self.repos is not None and str(event.issue_key).rpartition("#")[0].lower() not in self.repos:
            return False
        if self.done_when == "closed":
            return isinstance(event, ev.IssueGone) or isinstance(event, ev.IssueSeen) and event.issue_data.closed
        return isinstance(event, ev.SessionFinished) and event.result.outcome is Outcome.SUCCEEDED

    def due_at(self) -> float | None:
        return self._next_check

    async def deliver(self, events: Sequence[ev.Event], snapshot: Snapshot) -> list[str | ev.Event]:
        keys = [str(event.issue_key) for event in events]
        touched = milestones_of(snapshot, keys)
        reports: list[str | ev.Event] = []
        if touched:
            for progress in milestone_progress(snapshot, done_when=self.done_when):
                if (progress.repo, progress.name) in touched and any(completed_by(snapshot, progress, key) for key in keys):
                    reports.append(await self.integrate(progress, snapshot))
        reports += await self._close_merged(snapshot, reports)
        return reports

    async def _close_merged(self, snapshot: Snapshot, reports: list[str | ev.Event]) -> list[ev.Event]:
        """Ask about integration pull requests when due; close the milestones whose pull request was merged."""
        if self.closer is None:
            return []
        now = self.clock()
        just_opened = any(isinstance(report, ev.MilestoneIntegrated) and report.pull_request for report in reports)
        if self._next_check is None or self._next_check > now:
            if just_opened and self._next_check is None:
                self._next_check = now + self.check_interval_s
            return []
        closed, wait_until = await self.closer.check(snapshot, now)
        closings = {(event.repo, event.milestone) for event in closed if isinstance(event, ev.MilestoneClosed)}
        left = [item for item in awaiting_merge(snapshot) if (item.repo, item.milestone) not in closings]
        self._next_check = max(now + self.check_interval_s, wait_until or 0.0) if left or just_opened else None
        return closed

    async def close(self) -> None:
        """The GitHub client is shared and closed by whoever made it."""

    async def integrate(self, progress: MilestoneProgress, snapshot: Snapshot) -> MilestoneReport:
        """Integrate one milestone now and publish it (by config); the event says what came of it.

        Raises SinkUnavailable when git or GitHub is only busy (a lock, a rate limit).
        """
        members, without = member_branches(snapshot, progress)
        integration = await self.integrator.integrate(progress.name, members, self.gate)
        if integration.retryable:
            raise SinkUnavailable(f"integrating milestone {progress.name}: {integration.error}")
        self.results.append(integration)
        published, pull = "", None
        target = progress.repo if "/" in progress.repo else self.publish_repo
        if self.publisher is not None and not target and not (integration.error or integration.missing):
            published = not_published_reason(progress.repo, "")
        elif self.unpublished and not (integration.error or integration.missing):
            published = self.unpublished
        if self.publisher is not None and target:
            try:
                published, pull = await self.publisher.publish_outcome(target, integration, without)
            except RateLimited as error:
                raise SinkUnavailable(f"publishing milestone {progress.name}: {error.message}", retry_at=error.until) from error
            except GitHubUnavailable as error:
                raise SinkUnavailable(f"publishing milestone {progress.name}: {error}", retry_at=self.publisher.client.waiting_until()) from error
            except GitHubError as error:
                published = f"publishing failed: {error}"
        report = integration_event(integration, progress.repo, ts=self.clock(), published=published, pull_request=pull, closed_upstream=without)
        if isinstance(report, ev.MilestoneConflict) and self.on_conflict == "requeue_rebased":
            report = await self._requeue_rebased(report, integration, snapshot)
        return report

    async def _requeue_rebased(self, report: ev.MilestoneConflict, integration: Integration, snapshot: Snapshot) -> ev.MilestoneConflict:
        """Send the later issue back with the conflict to resolve; never more than MAX_REWORKS times."""
        task = snapshot.tasks.get(report.issue)
        label = integration.conflict.member.label if integration.conflict is not None else report.issue
        if task is None or task.reworks >= MAX_REWORKS:
            return replace(report, summary=f"{report.summary}; {label} not requeued: sent back {MAX_REWORKS} times already, it needs the operator")
        done, note = await prepare_rework(self.integrator.repo_path, snapshot, integration, await self.integrator.identity_args())
        how = f"integration branch merged into its worktree, {done}" if done else "its agent merges the integration branch"
        return replace(report, requeued=True, follow_up=note,
                       summary=f"{report.summary}; {label} requeued on top of {integration.branch} to resolve it ({how})")


def build_milestone_sink(
    section: MilestonesSettings, *, repo_path: Path, base_branch: str, worktrees_dir: str = ".worktrees",
    gate_options: Mapping[str, Any] | None = None, github: GitHubClient | None = None, repos: Iterable[str] | None = None,
    check_interval_s: float = 10.0, publish_repo: str = "", push_remote: str = "", unpublished: str = "", hosts: Sequence[HostConfig] = (),
) -> MilestoneSink | None:
    """The sink for `[milestones]`, or None when it is off; ValueError (one line) for settings that cannot work.

    `push_remote`: where the push step sends the issue branches; the integration branch goes there
    too when `[milestones] remote` is unset and it is published as a pull request."""
    if not section.enabled:
        return None
    remote = section.remote or (push_remote if section.publish == "pull_request" and github is not None else "")
    if section.publish == "pull_request" and github is not None and not remote:
        raise ValueError('milestones: publish = "pull_request" needs a remote to push the integration branch to (set [milestones] remote)')
    if section.close_when_merged and section.publish != "pull_request":
        raise ValueError('milestones: close_when_merged needs publish = "pull_request" (the milestone closes when that pull request is merged)')
    integrator = BranchIntegrator(
        Path(repo_path), section.base_branch or base_branch, prefix=section.branch_prefix, worktrees_dir=worktrees_dir, remote=remote,
        host_branches=HostBranches(hosts) if hosts else None,
    )
    gate = PipelineGate(gate_options or {}) if section.gate else None
    publisher = None
    if github is not None and section.publish != "none":
        publisher = MilestonePublisher(github, mode=section.publish, draft=section.draft, labels=section.labels)
    closer = MilestoneCloser(github) if github is not None and section.close_when_merged else None
    return MilestoneSink(
        integrator, publisher=publisher, gate=gate, done_when=section.done_when, repos=repos, closer=closer, check_interval_s=check_interval_s,
        on_conflict=section.on_conflict, publish_repo=publish_repo, unpublished=unpublished,
    )
