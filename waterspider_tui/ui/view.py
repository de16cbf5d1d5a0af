"""What the screens render: one snapshot with its plan, the time it is shown at, and lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from waterspider_tui.core.models import HostStatus, TaskState
from waterspider_tui.core.scheduler import BlockedTask, Plan, ReadyTask
from waterspider_tui.core.state import Snapshot, TaskRecord, utc_day
from waterspider_tui.text.status_text import state_word

_BLOCKED_CLASS = {
    "dependency": "blocked", "failed_dependency": "blocked-failed", "cycle": "failed",
    "paused": "paused", "held": "paused", "retry_wait": "blocked", "external": "blocked",
}


@dataclass(frozen=True)
class View:
    """A snapshot, the scheduler's plan for it and the time it is shown at; never mutated."""

    snapshot: Snapshot
    plan: Plan
    now: float
    capacity: int
    title: str
    single_repo: bool = True
    """All issues come from one repository, so `#N` is enough to name one."""
    configured_hosts: Mapping[str, int] = field(default_factory=dict)
    """Every configured host and its slots, probed or not."""
    ready_by_key: Mapping[str, tuple[int, ReadyTask]] = field(default_factory=dict)
    blocked_by_key: Mapping[str, BlockedTask] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, plan: Plan, now: float, capacity: int, title: str, configured_hosts: Mapping[str, int] | None = None) -> View:
        repos = {task.issue.repo for task in snapshot.tasks.values()}
        return cls(
            snapshot=snapshot, plan=plan, now=now, capacity=capacity, title=title,
            single_repo=len(repos) <= 1, configured_hosts=configured_hosts or {},
            ready_by_key={item.issue: (rank, item) for rank, item in enumerate(plan.ready, 1)},
            blocked_by_key={item.issue: item for item in plan.blocked},
        )

    def hosts(self) -> tuple[dict[str, HostStatus], frozenset[str]]:
        """Every host to list: the probed ones as last probed, and the configured ones not probed yet
        (their names second), so a host shows from the first frame, not from its first answer."""
        hosts = dict(self.snapshot.hosts)
        checking = frozenset(name for name in self.configured_hosts if name not in hosts)
        for name in checking:
            hosts[name] = HostStatus(name=name, slots_total=self.configured_hosts[name])
        return hosts, checking

    def task(self, key: str | None) -> TaskRecord | None:
        return self.snapshot.tasks.get(key) if key else None

    def label(self, key: str) -> str:
        """`#443` when one repository is shown, else the full `owner/name#443`."""
        if self.single_repo:
            _, _, number = key.rpartition("#")
            return f"#{number}"
        return key

    def state_class(self, key: str) -> str:
        """The semantic state of an issue for colours: running, ready, blocked, paused, failed, ..."""
        task = self.snapshot.tasks.get(key)
        if task is None:
            return "unknown"
        if task.state is TaskState.QUEUED:
            if key in self.ready_by_key:
                return "ready"
            blocked = self.blocked_by_key.get(key)
            return _BLOCKED_CLASS.get(blocked.reason, "blocked") if blocked else "queued"
        return task.state.value

    def state_text(self, key: str) -> str:
        """The state as a word for dependency lists: `running`, `ready`, `waiting`, `failed`, ..."""
        return state_word(self.snapshot, key, self.ready_by_key, self.blocked_by_key)

    def spend_today(self) -> float:
        """Dollars of sessions finished today (UTC) plus what running sessions spent so far."""
        live = sum(task.session.progress.cost_usd for task in self.snapshot.running() if task.session)
        return self.snapshot.spend_on(utc_day(self.now)) + live

    def counts(self) -> dict[str, int]:
        """How many issues each queue holds, for the header and panel titles."""
        tasks = self.snapshot.tasks.values()
        return {
            "running": len(self.plan.running),
            "ready": len(self.plan.ready),
            "blocked": len(self.plan.blocked),
            "succeeded": sum(1 for task in tasks if task.state is TaskState.SUCCEEDED),
            "failed": sum(1 for task in tasks if task.state is TaskState.FAILED),
            "cancelled": sum(1 for task in tasks if task.state is TaskState.CANCELLED),
        }


def matches(task: TaskRecord, needle: str) -> bool:
    """Does the filter text occur in the issue's key, title or labels (case-insensitive)?"""
    if not needle:
        return True
    needle = needle.lower()
    issue = task.issue
    return (
        needle in task.key.lower()
        or needle in issue.title.lower()
        or any(needle in label.lower() for label in issue.labels)
    )


def needed_by(snapshot: Snapshot, key: str) -> list[str]:
    """Issues that wait on `key`, in natural order."""
    return sorted((task.key for task in snapshot.tasks.values() if key in task.deps), key=natural)


def natural(key: str) -> tuple[str, int]:
    repo, _, number = key.rpartition("#")
    return (repo, int(number) if number.isdigit() else 0)
