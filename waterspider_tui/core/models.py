"""The domain's value types: issues, task states, sessions, outcomes and hosts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TaskState(str, enum.Enum):
    """Where one issue stands; an issue is in exactly one state at a time."""

    QUEUED = "queued"
    """Open and waiting: ready or blocked is decided by the scheduler from dependencies."""
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    GONE = "gone"
    """Closed upstream or lost its trigger label before finishing here."""

    @property
    def is_final(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED, TaskState.GONE)


class Outcome(str, enum.Enum):
    """How a session ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ErrorClass(str, enum.Enum):
    """Failure classes an operator can act on."""

    MAX_TURNS = "max_turns"
    BUDGET = "budget"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    USAGE_LIMIT = "usage_limit"
    OVERLOADED = "overloaded"
    PROMPT_TOO_LONG = "prompt_too_long"
    PERMISSION_DENIED = "permission_denied"
    STALLED = "stalled"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    AGENT_NOT_FOUND = "agent_not_found"
    AGENT_EXIT = "agent_exit"
    """A command agent exited 2: by its contract, the issue failed and is not to be retried."""
    AGENT_RETRY_LATER = "agent_retry_later"
    """A command agent exited 75 (EX_TEMPFAIL): by its contract, it asks to be tried again later."""
    BAD_OUTPUT = "bad_output"
    WORKSPACE = "workspace"
    """The worktree or branch could not be prepared."""
    LOST = "lost"
    """The orchestrator restarted and found no trace of the process."""
    INTERRUPTED = "interrupted"
    """The agent was stopped by SIGINT before its result (Claude Code's `[Request interrupted by user]`)."""
    GATE_FAILED = "gate_failed"
    """The completion gate (tests, checks on the branch) still failed after the agent's last round."""
    PUSH_FAILED = "push_failed"
    """The branch could not be pushed to its remote."""
    PR_FAILED = "pr_failed"
    HOST_DOWN = "host_down"
    """The session's host could not be reached (SSH down, a timeout, the connection lost)."""
    HOST_REFUSED = "host_refused"
    """The host refused us: its key changed or is unknown, or the login was refused."""
    BLOCKERS_CONFLICT = "blockers_conflict"
    """A stacked dependant's unmerged blockers change the same lines: their branches could not be
    merged into its worktree, so it waits (no agent ran) for one of them to be merged."""
    """The pull request could not be opened or updated."""


def issue_key(repo: str, number: int) -> str:
    """The stable identity of an issue across sources: `owner/name#N` (or `local#N`)."""
    return f"{repo}#{number}"


def split_issue_key(key: str) -> tuple[str, int]:
    """Inverse of `issue_key`."""
    repo, _, number = key.rpartition("#")
    return repo, int(number)


@dataclass(frozen=True)
class Issue:
    """One issue as a source reported it, already normalised."""

    repo: str
    number: int
    title: str
    body: str = ""
    labels: tuple[str, ...] = ()
    milestone: str | None = None
    depends_on: tuple[str, ...] = ()
    """Issue keys this one waits on, as given explicitly by the source (front matter, API)."""
    estimate_min: float | None = None
    created: float = 0.0
    """Creation time, seconds since the epoch."""
    closed: bool = False
    url: str = ""
    assignees: tuple[str, ...] = ()
    source_path: str = ""
    """Where the issue came from (a file path, an API URL); shown in error messages."""
    external_open: tuple[str, ...] = ()
    """Referenced issues the source found open but does not offer for work: they block."""
    external_closed: tuple[str, ...] = ()
    """Referenced issues the source found closed: they count as done."""

    @property
    def key(self) -> str:
        return issue_key(self.repo, self.number)


@dataclass(frozen=True)
class Overrides:
    """Operator inputs to ordering: bumps, a pin, a pause."""

    bump: int = 0
    """Steps up (positive) or down (negative) the operator asked for."""
    pinned: bool = False
    paused: bool = False


@dataclass(frozen=True)
class Progress:
    """A running session's progress as parsed from the agent's stream."""

    phase: str = "starting"
    phases_done: int = 0
    phases_total: int = 0
    turns: int = 0
    cost_usd: float = 0.0
    last_activity: str = ""
    last_output_at: float = 0.0
    todos: tuple[tuple[str, str], ...] = ()
    """The agent's own todo list as (content, status) pairs, when it keeps one."""


@dataclass(frozen=True)
class SessionInfo:
    """A live or finished session of one agent on one issue."""

    session_id: str
    issue: str
    attempt: int
    executor: str
    host: str
    worktree: str
    branch: str
    log_path: str
    started_at: float
    agent: str = "simulated"
    agent_session_id: str = ""
    """The agent's own session id (Claude Code's), used to resume on retry."""
    pid: int | None = None
    progress: Progress = field(default_factory=Progress)
    session_dir: str = ""
    """The session's folder on its host (pid, heartbeat, exit and output files); empty in
    stores written before executors kept it, where it is the folder of `log_path`."""
    spawned: bool = False
    """True once the agent was started: only attempts in which an agent ran count against
    `max_attempts`."""
    agent_ended: SessionResult | None = None
    """The agent's own result, recorded when it exited and before the steps after it ran: a
    restart that finds it goes on with those steps instead of running the agent again."""
    placement: str = ""
    """Why the session went to its host (the load balancer's reason)."""
    steps_done: tuple[str, ...] = ()
    """The steps after the agent that have finished (a restart skips them)."""
    facts: dict[str, int | float | str] = field(default_factory=dict)
    """What those steps found (commits, files changed, ...)."""
    base_branch: str = ""
    """The branch its issue branch starts from when not the executor's usual base: a blocker's
    branch when stacked (`[pipeline] dependants_wait_for = "gate_passed"`)."""
    stacked_on: str = ""
    """The blocker issue whose branch it starts from when stacked; empty otherwise."""
    merged_in: tuple[tuple[str, str], ...] = ()
    """When stacked on several unmerged blockers: the others, as (issue, branch), whose branches
    are merged into its branch at prepare (a merge commit each, in dependency order)."""
    shipped_branches: tuple[str, ...] = ()
    """Stacked branches (of `base_branch` and `merged_in`) that are in the orchestrator's repository,
    not on the session's host (their blockers ran here): its executor brings them there first."""
    external_id: str = ""
    """Where the session runs as someone else's job (a GitHub Actions run): that job's id, recorded
    once its dispatch answered, so a restart asks for it directly; empty otherwise."""
    external_url: str = ""
    """That job's web address (shown where a host and pid are shown for a process)."""

    @property
    def folder(self) -> str:
        return self.session_dir or self.log_path.rpartition("/")[0]


@dataclass(frozen=True)
class SessionResult:
    """What a finished session produced, parsed from its stream and its branch."""

    outcome: Outcome
    error_class: ErrorClass | None = None
    error: str = ""
    summary: str = ""
    turns: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    exit_code: int | None = None
    commits: int = 0
    files_changed: int = 0
    retry_at: float | None = None
    """For rate and usage limits: when the agent said the limit resets."""
    cost_counts_resumed: bool = False
    """The agent gave only a running total: where the session resumed a conversation, `cost_usd`
    counts that conversation's earlier sessions too."""
    earlier_rounds: tuple[EarlierRound, ...] = ()
    """Rounds the session ran where it ran (a CI runner) before its last, each an attempt of its own
    as a local gate round is; this result is the last round's."""


def round_session_id(session_id: str, round_number: int) -> str:
    """The session id of a round where the session ran: the session's own for the first, `ID.N` for the N-th."""
    return session_id if round_number == 1 else f"{session_id}.{round_number}"


@dataclass(frozen=True)
class EarlierRound:
    """A round of a session that a step after the agent (the gate) sent back to it where the session
    ran, with what that round cost and why it went round again."""

    session_id: str
    attempt: int
    error_class: ErrorClass | None
    error: str
    cost_usd: float = 0.0
    turns: int = 0
    duration_s: float = 0.0


@dataclass(frozen=True)
class LogEntry:
    """One readable line of an agent's stream for the log panel."""

    kind: str
    """One of: system, text, tool, result, error, raw."""
    text: str


@dataclass(frozen=True)
class HostStatus:
    """One executor host as last probed."""

    name: str
    slots_total: int
    slots_used: int = 0
    reachable: bool = True
    load: float | None = None
    mem_percent: float | None = None
    probed_at: float = 0.0
    error: str = ""
    load_history: tuple[float, ...] = ()
    mem_history: tuple[float, ...] = ()
    """Recent memory use in percent, oldest first, as the snapshot keeps it (like `load_history`)."""
    cores: int | None = None
    """CPU cores, so that load can be compared per core; None when the probe could not tell."""
    disk_free_gb: float | None = None
    """Free space where the host's worktrees live."""
    mem_pressure: str = ""
    """`normal`, `warning` or `critical` as the host reports it; empty when unknown."""
    labels: tuple[str, ...] = ()
    """What the host offers (`macos`, `linux`, `gpu`, ...), as configured."""
    os: str = ""
    """The host's system (`Linux`, `Darwin`); empty when unknown."""
