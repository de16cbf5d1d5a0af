"""Queues as text and as JSON, for `waterspider status` and `waterspider plan`."""

from __future__ import annotations

import time
from typing import Any, Callable, Container, Mapping

from waterspider_tui.core.milestones import DoneWhen
from waterspider_tui.core.models import TaskState, split_issue_key
from waterspider_tui.core.readiness import BlockedTask, unreadable_file
from waterspider_tui.core.scheduler import Plan
from waterspider_tui.core.state import Snapshot
from waterspider_tui.text.event_text import duration
from waterspider_tui.text.milestone_text import milestone_lines, milestone_rows
from waterspider_tui.text.run_state import run_state


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
        "skipped": [{"path": path, "error": error} for path, error in sorted(snapshot.rejected.items())],
    }


def status_dict(
    snapshot: Snapshot, plan: Plan, now: float, *, orchestrator_running: bool | None = None, done_when: DoneWhen = "succeeded",
) -> dict[str, Any]:
    data = plan_dict(snapshot, plan)
    multi = is_multi_repo(snapshot)
    state = run_state(snapshot, plan, now)
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
    data["state"] = state.word
    data["state_detail"] = state.detail
    data["dispatcher_paused"] = snapshot.dispatcher_paused
    data["orchestrator_running"] = orchestrator_running
    data["last_event_at"] = snapshot.now or None
    data["rejected"] = dict(snapshot.rejected)
    data["milestones"] = milestone_rows(snapshot, done_when=done_when, plan=plan)
    return data


_WAIT_WORDS = {"paused": "paused", "held": "held", "cycle": "in a cycle"}


def state_word(snapshot: Snapshot, key: str, ready: Container[str], blocked: Mapping[str, BlockedTask]) -> str:
    """An issue's state as the control center names it: `running`, `ready`, `waiting`, `paused`, `failed`, ..."""
    task = snapshot.tasks.get(key)
    if task is None:
        return unreadable_file(key, snapshot) or "unknown here"
    if task.state is TaskState.QUEUED:
        if key in ready:
            return "ready"
        item = blocked.get(key)
        return _WAIT_WORDS.get(item.reason if item else "", "waiting")
    return task.state.value


def blocked_words(snapshot: Snapshot, plan: Plan, item: BlockedTask, now: float, label: Callable[[str], str]) -> str:
    """Why an issue waits, in the words of the control center's Blocked panel."""
    ready = set(plan.ready_keys())
    blocked = {entry.issue: entry for entry in plan.blocked}
    task = snapshot.tasks[item.issue]
    if item.reason in ("dependency", "failed_dependency"):
        return "waits on " + ", ".join(f"{label(dep)} ({state_word(snapshot, dep, ready, blocked)})" for dep in item.waiting_on)
    if item.reason == "cycle":
        return "cycle " + " → ".join(label(member) for member in item.cycle + item.cycle[:1])
    if item.reason == "paused":
        return "paused by operator"
    if item.reason == "held":
        return f"held: {item.detail}"
    if item.reason == "retry_wait" and task.not_before:
        after = task.result.error_class.value if task.result and task.result.error_class else "failure"
        return f"retry in {duration(task.not_before - now)} (after {after})"
    return item.detail


def _show(snapshot: Snapshot) -> Callable[[str], str]:
    multi = is_multi_repo(snapshot)
    return lambda key: str(key) if multi else f"#{split_issue_key(key)[1]}"


def unknown_ref_warning(task: str, ref: str, show: Callable[[str], str]) -> str:
    """`#2 refers to #999, which is not known: ...`; a reference into another repository keeps its name."""
    same_repo = ref.rpartition("#")[0] == task.rpartition("#")[0]
    return f"{show(task)} refers to {show(ref) if same_repo else ref}, which is not known: not waiting on it"


def cycle_warning(cycle: tuple[str, ...] | list[str], show: Callable[[str], str]) -> str:
    path = " → ".join(show(key) for key in (*cycle, cycle[0]))
    return f"dependency cycle {path}: these issues are held until it is broken"


def plan_warnings(snapshot: Snapshot, plan: Plan) -> list[str]:
    """What a run warns about its plan, in the run's words: references to unknown issues, and cycles."""
    show = _show(snapshot)
    return [unknown_ref_warning(task, ref, show) for task, ref in plan.unknown_refs] + [cycle_warning(cycle, show) for cycle in plan.cycles]


def plan_lines(snapshot: Snapshot, plan: Plan, now: float) -> list[str]:
    """The ready queue in dispatch order with each score's parts, then what is blocked and why."""
    show = _show(snapshot)
    lines = [f"ready ({len(plan.ready)}), in dispatch order:"]
    for position, item in enumerate(plan.ready, 1):
        title = snapshot.tasks[item.issue].issue.title
        lines.append(f"{position:3d}. {show(item.issue):>6} {item.score.total:.3f}  {title}")
        lines.append(f"        {item.score.explain()}")
    lines.append(f"blocked ({len(plan.blocked)}):")
    for item in plan.blocked:
        lines.append(f"     {show(item.issue):>6} {blocked_words(snapshot, plan, item, now, show)}")
    return lines


def status_lines(
    snapshot: Snapshot, plan: Plan, now: float, *, orchestrator_running: bool | None = None, done_when: DoneWhen = "succeeded",
) -> list[str]:
    """The queues in the control center's words, and whether anything runs them now.

    Without an orchestrator the store shows how the last run left things: sessions it left
    running (to be reattached by the next start) are not being watched, and their phases are
    the last ones recorded.
    """
    show = _show(snapshot)
    state = run_state(snapshot, plan, now)
    word = f"{state.mark} {state.word}" + (f": {state.detail}" if state.detail else "")
    last = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(snapshot.now))} ({duration(now - snapshot.now)} ago)" if snapshot.now else "never"
    if orchestrator_running is False:
        lines = [f"no orchestrator is running: the last run recorded its last event at {last}",
                 f"when it stopped: {word}"]
    else:
        lines = [f"{word} (an orchestrator is running; last event at {last})" if orchestrator_running else word]
    running = snapshot.running()
    left = " (left running by the last run, to be reattached at the next start; phases as last recorded)" if orchestrator_running is False and running else ""
    lines.append(f"running ({len(running)}){left}:")
    for task in running:
        progress = task.session.progress if task.session else None
        lines.append(f"     {show(task.key):>6} {progress.phase if progress else ''}  {task.issue.title}")
    lines += plan_lines(snapshot, plan, now)
    finished = snapshot.tasks_in(TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)
    lines.append(f"finished ({len(finished)}):")
    for task in sorted(finished, key=lambda t: t.finished_at or 0):
        error = f" ({task.result.error_class.value})" if task.result and task.result.error_class else ""
        lines.append(f"     {show(task.key):>6} {task.state.value}{error}  {task.issue.title}")
    lines += milestone_lines(snapshot, done_when=done_when, show=show, plan=plan)
    for error in snapshot.rejected.values():
        lines.append(f"skipped file: {error}")
    return lines
