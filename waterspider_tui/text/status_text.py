"""Queues as text and as JSON, for `waterspider status` and `waterspider plan`."""

from __future__ import annotations

from typing import Any

from waterspider_tui.core.models import TaskState, split_issue_key
from waterspider_tui.core.scheduler import Plan
from waterspider_tui.core.state import Snapshot


def issue_ref(key: str, multi_repo: bool) -> int | str:
    """The issue number alone when there is one repository, else the full key."""
    return key if multi_repo else split_issue_key(key)[1]


def is_multi_repo(snapshot: Snapshot) -> bool:
    return len({task.issue.repo for task in snapshot.tasks.values()}) > 1


def plan_dict(snapshot: Snapshot, plan: Plan) -> dict[str, Any]:
    multi = is_multi_repo(snapshot)
    ref = lambda key: issue_ref(key, multi)  # noqa: E731
    return {
        "order": [
            {"issue": ref(item.issue), "score": round(item.score.total, 4), "parts": item.score.parts_dict(),
             "pinned": item.score.pinned, "critical_path": item.score.critical, "first": item.score.first or None,
             "title": snapshot.tasks[item.issue].issue.title}
            for item in plan.ready
        ],
        "blocked": [
            {"issue": ref(item.issue), "reason": item.reason, "detail": item.detail,
             "waiting_on": [ref(key) for key in item.waiting_on], "cycle": [ref(key) for key in item.cycle]}
            for item in plan.blocked
        ],
    }


def status_dict(snapshot: Snapshot, plan: Plan) -> dict[str, Any]:
    data = plan_dict(snapshot, plan)
    multi = is_multi_repo(snapshot)
    data["running"] = [
        {"issue": issue_ref(task.key, multi), "session": task.session.session_id if task.session else None,
         "phase": task.session.progress.phase if task.session else None}
        for task in snapshot.running()
    ]
    data["finished"] = [
        {"issue": issue_ref(task.key, multi), "state": task.state.value,
         "error_class": task.result.error_class.value if task.result and task.result.error_class else None}
        for task in snapshot.tasks_in(TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)
    ]
    data["dispatcher_paused"] = snapshot.dispatcher_paused
    data["rejected"] = dict(snapshot.rejected)
    return data


def plan_lines(snapshot: Snapshot, plan: Plan) -> list[str]:
    multi = is_multi_repo(snapshot)
    show = lambda key: str(key) if multi else f"#{split_issue_key(key)[1]}"  # noqa: E731
    lines = [f"dispatch order ({len(plan.ready)} ready):"]
    for position, item in enumerate(plan.ready, 1):
        title = snapshot.tasks[item.issue].issue.title
        lines.append(f"{position:3d}. {show(item.issue):>6} {item.score.total:.3f}  {title}")
        lines.append(f"        {item.score.explain()}")
    lines.append(f"waiting ({len(plan.blocked)}):")
    for item in plan.blocked:
        lines.append(f"     {show(item.issue):>6} {item.reason}: {item.detail}")
    return lines


def status_lines(snapshot: Snapshot, plan: Plan) -> list[str]:
    multi = is_multi_repo(snapshot)
    show = lambda key: str(key) if multi else f"#{split_issue_key(key)[1]}"  # noqa: E731
    paused = f"paused ({snapshot.pause_reason})" if snapshot.dispatcher_paused else "dispatching"
    lines = [f"dispatcher: {paused}", f"running ({len(plan.running)}):"]
    for task in snapshot.running():
        progress = task.session.progress if task.session else None
        lines.append(f"     {show(task.key):>6} {progress.phase if progress else ''}  {task.issue.title}")
    lines += plan_lines(snapshot, plan)
    finished = snapshot.tasks_in(TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)
    lines.append(f"finished ({len(finished)}):")
    for task in sorted(finished, key=lambda t: t.finished_at or 0):
        error = f" ({task.result.error_class.value})" if task.result and task.result.error_class else ""
        lines.append(f"     {show(task.key):>6} {task.state.value}{error}  {task.issue.title}")
    for error in snapshot.rejected.values():
        lines.append(f"skipped file: {error}")
    return lines
