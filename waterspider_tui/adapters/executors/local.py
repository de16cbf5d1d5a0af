"""This machine as an executor: worktrees of the operator's repository, detached local runners."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence, TypeVar

from waterspider_tui.adapters.executors.base import (
    CommandResult,
    ExecutorError,
    ExitStatus,
    HostSlots,
    PreparedWorkspace,
    SessionPaths,
    SessionState,
    WorkOrder,
)
from waterspider_tui.adapters.executors.host_probe import probe_local
from waterspider_tui.adapters.executors.local_commands import run_command
from waterspider_tui.adapters.executors.local_processes import SESSION_NICENESS, DetachedProcesses
from waterspider_tui.adapters.workspace import WorkspaceError, WorkspaceManager, branch_name
from waterspider_tui.adapters.workspace_stacking import BlockersCheck, BlockersConflict, Merge, check_blockers
from waterspider_tui.core.models import split_issue_key

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import LaunchSpec
    from waterspider_tui.core.models import HostStatus, SessionInfo

T = TypeVar("T")


def session_folder(sessions_dir: Path, order: WorkOrder) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", order.repo)
    return sessions_dir / f"{slug}-{order.number}" / f"attempt-{order.attempt}-{order.token}"


def write_launch_files(session_dir: Path, spec: LaunchSpec) -> None:
    """The files an agent's launch asks for (its prompt, the issue body) in the session folder."""
    files = getattr(spec, "files", None) or {}
    if not files:
        return
    session_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (session_dir / name).write_text(text, encoding="utf-8")


class LocalExecutor:
    """Sessions on this machine: one worktree per issue from `workspace`, folders in `sessions_dir`.

    A second instance over another clone and another sessions folder stands for another host
    (the engine tests run that way too): nothing here is shared with the orchestrator but the
    calls of the Executor protocol.
    """

    def __init__(
        self, workspace: WorkspaceManager, sessions_dir: Path, *, name: str = "local", slots: int = 5,
        niceness: int = SESSION_NICENESS, labels: tuple[str, ...] = (), agents: tuple[str, ...] = (), launcher: str = "direct",
    ) -> None:
        self.name = name
        self.workspace = workspace
        self.sessions_dir = sessions_dir
        self.hosts = (HostSlots(name=name, slots=slots, labels=labels, agents=agents),)
        self.processes = DetachedProcesses(capacity=slots, name=name, niceness=niceness, launcher=launcher)
        self.span_sink: Callable[[str, str, float, float], None] | None = None
        """`(session_id, span, wall seconds, CPU seconds)`: told how long each part of a start took (the engine's spawn spans)."""
        self._git_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"{name}-git")
        """Git after a session and pool refills, off the loop and off the default pool."""
        self._start_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"{name}-start")
        """Starting a session (its worktree, its launch files) has threads of its own: with two
        hundred sessions finishing, their git calls held a shared pool for seconds while ready
        issues waited behind them for a worktree that was already there."""
        self._refilling: asyncio.Future[int] | None = None
        self._closed = False

    @staticmethod
    def _session_dir(session: SessionInfo) -> Path:
        return Path(session.folder)

    async def _off_loop(self, pool: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)

    def _span_sink(self, session: SessionInfo) -> Callable[[str, float, float], None] | None:
        sink = self.span_sink
        return None if sink is None else functools.partial(sink, session.session_id)

    def _timed(self, session: SessionInfo, name: str, function: Callable[..., T], *args: object) -> T:
        """Run `function` (in a thread) and tell the span sink its wall time: the work, not the wait for a thread."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args)
        finally:
            if self.span_sink is not None:
                self.span_sink(session.session_id, name, time.perf_counter() - started, time.thread_time() - cpu)

    def locate(self, order: WorkOrder, host: str) -> SessionPaths:
        return SessionPaths(
            session_dir=str(session_folder(self.sessions_dir, order)),
            worktree=str(self.workspace.path_for(order.number, order.repo, order.multi_repo)),
            branch=branch_name(order.number, order.repo, order.multi_repo),
        )

    def base_branch(self, session: SessionInfo) -> str:
        return session.base_branch or self.workspace.base_branch

    async def prepare(self, session: SessionInfo) -> PreparedWorkspace:
        repo, number = split_issue_key(session.issue)
        multi_repo = session.branch == branch_name(number, repo, True) != branch_name(number, repo, False)
        try:
            prepare = functools.partial(self.workspace.prepare, stacked_on=session.stacked_on, merge=session.merged_in)
            workspace = await self._off_loop(self._start_threads, self._timed, session, "worktree", prepare, number, repo, multi_repo, session.base_branch or None)
        except WorkspaceError as error:
            raise ExecutorError(str(error), error_class="blockers_conflict" if isinstance(error, BlockersConflict) else "workspace") from error
        self.refill_pool()
        return PreparedWorkspace(path=str(workspace.path), branch=workspace.branch, base=workspace.base, reused=workspace.reused)

    async def check_blockers(
        self, branch: str, dependant: str, stacked_on: Merge, merges: Sequence[Merge], unless_heads: tuple[tuple[str, str], ...] = (),
        *, host: str = "", shipped: Sequence[str] = (),
    ) -> BlockersCheck:
        """Whether a dependant's blockers' branches here merge, before its session exists (see `check_blockers`);
        this machine has every branch it stacks on, so `host` and `shipped` say nothing new."""
        base = self.workspace.base_branch
        try:
            return await self._off_loop(self._git_threads, check_blockers, self.workspace.repo, branch, base, stacked_on, merges, dependant, unless_heads)
        except WorkspaceError as error:
            raise ExecutorError(str(error), error_class="workspace") from error

    def refill_pool(self) -> None:
        """Top up the warm worktree pool in the background, one refill at a time."""
        if self.workspace.warm_pool <= 0 or (self._refilling is not None and not self._refilling.done()):
            return
        self._refilling = asyncio.get_running_loop().run_in_executor(self._git_threads, self.workspace.refill)

    async def start(self, session: SessionInfo, spec: LaunchSpec) -> int | None:
        session_dir = self._session_dir(session)
        await self._off_loop(self._start_threads, self._timed, session, "launch_files", write_launch_files, session_dir, spec)
        return await self.processes.start(session_dir, spec, self._span_sink(session))

    async def read_output(self, session: SessionInfo, offset: int, limit: int = 1 << 20) -> bytes:
        try:
            with open(session.log_path, "rb") as stream:
                stream.seek(offset)
                return stream.read(limit)
        except FileNotFoundError:
            return b""

    async def state(self, session: SessionInfo) -> SessionState:
        session_dir = self._session_dir(session)
        status = self.processes.exit_status(session_dir)
        if status is not None:
            return SessionState(alive=False, exit=status)
        if self.processes.is_alive(session_dir):
            return SessionState(alive=True)
        spawned = self.processes.was_spawned(session_dir)
        if not spawned and await self.processes.runs_unrecorded(session_dir):
            return SessionState(alive=True)
        return SessionState(alive=False, spawned=spawned)

    async def wait(self, session: SessionInfo) -> ExitStatus:
        return await self.processes.wait(self._session_dir(session))

    async def stop(self, session: SessionInfo, grace_s: float) -> None:
        await self.processes.stop(self._session_dir(session), grace_s)

    async def git(self, session: SessionInfo, *args: str, timeout_s: float = 60.0) -> CommandResult:
        cwd = session.worktree if os.path.isdir(session.worktree) else str(self.workspace.root)
        if self._closed:
            # The run is over but its control center is still open (`D` on a finished issue): its pool is gone.
            return await asyncio.to_thread(run_git, cwd, args, timeout_s)
        return await self._off_loop(self._git_threads, run_git, cwd, args, timeout_s)

    async def run(
        self, session: SessionInfo, argv: Sequence[str], timeout_s: float, *,
        env: Mapping[str, str] | None = None, output_limit: int = 64_000,
    ) -> CommandResult:
        if not os.path.isdir(session.worktree):
            return CommandResult(returncode=127, stdout="", stderr=f"worktree {session.worktree} is gone on {self.name}")
        return await run_command(session.worktree, argv, timeout_s, env=env, output_limit=output_limit)

    async def probe(self) -> list[HostStatus]:
        host = self.hosts[0]
        return [await asyncio.to_thread(probe_local, host.name, host.slots)]

    async def preflight(self, program: str) -> list[str]:
        """What would fail every session here: the agent program, git's identity, free disk."""
        return await asyncio.to_thread(local_problems, self.name, self.workspace, program)

    async def close(self) -> None:
        if self._refilling is not None:
            try:
                await self._refilling
            except Exception:  # a refill that failed leaves nothing to clean up
                pass
        self._closed = True
        self._git_threads.shutdown(wait=False)
        self._start_threads.shutdown(wait=False)


MIN_FREE_BYTES = 1 << 30
"""Less free disk than this where worktrees live pauses dispatch: agents and git fail oddly when full."""


def local_problems(host: str, workspace: WorkspaceManager, program: str) -> list[str]:
    problems = []
    if program and not (shutil.which(program) if os.sep not in program else os.access(program, os.X_OK)):
        problems.append(f"{host}: the agent program {program} is not installed or not executable")
    # `git var` fails exactly as a commit would when git cannot tell who is committing.
    identity = run_git(str(workspace.root), ("var", "GIT_COMMITTER_IDENT"), 10.0)
    if identity.returncode != 0:
        problems.append(f"{host}: git has no identity in {workspace.root}, so agents cannot commit: set user.name and user.email")
    try:
        free = shutil.disk_usage(workspace.root).free
    except OSError:
        free = MIN_FREE_BYTES
    if free < MIN_FREE_BYTES:
        problems.append(f"{host}: only {free / 2**20:.0f} MB free where worktrees live ({workspace.root})")
    return problems


def run_git(cwd: str, args: tuple[str, ...], timeout_s: float) -> CommandResult:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return CommandResult(returncode=124, stdout="", stderr=f"git {' '.join(args)} timed out after {timeout_s:.0f}s")
    except OSError as error:
        return CommandResult(returncode=127, stdout="", stderr=str(error))
    return CommandResult(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)
