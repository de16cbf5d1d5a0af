"""The daily digest: what the last day finished, what failed, what it cost, where milestones stand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.adapters.sinks.notify.notices import Notice, NoticeKind
from waterspider_tui.core.milestones import DoneWhen, milestone_progress
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.readiness import short_key
from waterspider_tui.core.state import utc_day

if TYPE_CHECKING:
    from waterspider_tui.core.state import Snapshot

DAY_S = 86_400.0
FAILED_LISTED = 10


def digest_notice(snapshot: Snapshot, slot: float, *, done_when: DoneWhen = "succeeded") -> Notice | None:
    """The digest for the day ending at `slot`; None when the day saw nothing and nothing is open."""
    since = slot - DAY_S
    ended = [task for task in snapshot.tasks.values() if task.finished_at is not None and since <= task.finished_at < slot]
    succeeded = [task for task in ended if task.state is TaskState.SUCCEEDED]
    failed = sorted((task for task in ended if task.state is TaskState.FAILED), key=lambda task: task.key)
    running = snapshot.running()
    queued = snapshot.tasks_in(TaskState.QUEUED)
    if not ended and not running and not queued:
        return None
    yesterday, today = snapshot.spend_on(utc_day(slot - DAY_S)), snapshot.spend_on(utc_day(slot))
    text = (
        f"{len(succeeded)} succeeded, {len(failed)} failed; {len(running)} running, {len(queued)} waiting; "
        f"${yesterday:.2f} spent yesterday (UTC), ${today:.2f} today so far"
    )
    multi_repo = len({task.issue.repo for task in snapshot.tasks.values()}) > 1
    details = [f"failed: {task.key if multi_repo else short_key(task.key, task.issue.repo)} {task.issue.title}" for task in failed[:FAILED_LISTED]]
    if len(failed) > FAILED_LISTED:
        details.append(f"… and {len(failed) - FAILED_LISTED} more failed")
    details += [progress.summary() for progress in milestone_progress(snapshot, done_when=done_when) if not progress.complete]
    if snapshot.dispatcher_paused:
        details.append(f"dispatch paused: {snapshot.pause_reason}")
    return Notice(f"digest:{int(slot)}", NoticeKind.DIGEST, slot, 0, "last 24h", text, severity="info", details=tuple(details))
