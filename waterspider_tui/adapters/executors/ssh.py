"""Sessions on other machines over SSH (asyncssh): Mac minis or Linux boxes, each with its own clone.

Per host: one connection (`HostConnection`), the session runner copied once into a cache folder
keyed by its hash, worktrees made in the host's clone, agents started detached by
`ssh_launcher.py`, output read back from an offset and exits watched through one long-lived
pump channel (`ssh_polling`, `ssh_pump.py`).
A session's files never touch the orchestrator's disk.

How process handling differs from the local executor, and why: the runner cannot be a child of
the orchestrator, so liveness is the runner's pid checked on the host against its command line
or its heartbeat (a reused pid is not taken for ours), its exit is `exit.json` read over SSH,
and `stop` signals the session's process group from a script on the host that waits out the
grace period there, so a slow link does not stretch it. Reattaching after a lost connection or
an orchestrator restart is the same as attaching: everything is in the session folder.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import posixpath
import re
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from waterspider_tui.adapters.executors import runner
from waterspider_tui.adapters.executors.base import (
    CommandResult, ExecutorError, ExitStatus, HostSlots, PreparedWorkspace, SessionPaths, SessionState, WorkOrder,
)
from waterspider_tui.adapters.executors.remote_probe import parse_probe, probe_script
from waterspider_tui.adapters.executors.ssh_connection import CommandTimedOut, HostConnection, remote_path
from waterspider_tui.adapters.executors.ssh_errors import HOST_DOWN
from waterspider_tui.adapters.executors.ssh_polling import ExitWatch, HostPump, OutputReads
from waterspider_tui.adapters.executors.ssh_prepare import PrepareBatches, split_items
from waterspider_tui.adapters.executors.ssh_scripts import git_script, install_script, prepare_script, run_command_script, stop_script
from waterspider_tui.adapters.executors.ssh_stacking import HostStacking, conflict_in, stack_arguments, stack_of, stacked_of
from waterspider_tui.adapters.workspace import branch_name
from waterspider_tui.core.models import HostStatus

if TYPE_CHECKING:
    from waterspider_tui.adapters.agents.base import LaunchSpec
    from waterspider_tui.adapters.executors.ssh_config import HostConfig
    from waterspider_tui.core.models import SessionInfo
    from waterspider_tui.adapters.workspace_stacking import BlockersCheck, Merge
    from waterspider_tui.core.readiness import StackBase

log = logging.getLogger(__name__)

HOST_OWN_ENV = ("HOME", "USER", "LOGNAME", "SHELL", "PATH", "TMPDIR")
"""Variables an agent takes from the host, not from the orchestrator's machine."""
GIT_TIMEOUT_S = 180.0
"""Fetch and worktree add in a large clone, over a slow link."""
PROBE_WAIT_S = 3.0
"""How long a probe round waits for the hosts' answers; a host answering later is in the next round."""
PREPARE_EACH_S = 20.0
"""More time for a batch of worktrees, per worktree (a checkout of a large repository)."""


def runner_bundle() -> tuple[str, dict[str, str]]:
    """The files copied to each host (the runner, its launcher, the pump) and the hash naming their folder."""
    files = {
        "runner.py": Path(runner.__file__).read_text(encoding="utf-8"),
        "ssh_launcher.py": Path(__file__).with_name("ssh_launcher.py").read_text(encoding="utf-8"),
        "ssh_pump.py": Path(__file__).with_name("ssh_pump.py").read_text(encoding="utf-8"),
    }
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    return digest, files


def host_status(**values: object) -> HostStatus:
    """A HostStatus from the values this version of the core model has fields for."""
    known = {field.name for field in fields(HostStatus)}
    return HostStatus(**{name: value for name, value in values.items() if name in known})  # type: ignore[arg-type]


class SshExecutor:
    """Runs sessions on the configured SSH hosts; one instance serves all of them."""

    def __init__(
        self, hosts: Sequence[HostConfig], *, name: str = "ssh", poll_s: float = 0.5, read_window_s: float = 0.01,
        local_repo: Path | str | None = None, local_executor: str = "local",
    ) -> None:
        names = [host.name for host in hosts]
        if len(set(names)) != len(names):
            raise ValueError(f"host names must differ: {', '.join(names)}")
        self.name = name
        self.configs = {host.name: host for host in hosts}
        self.hosts = tuple(HostSlots(name=host.name, slots=host.slots, labels=tuple(host.labels), agents=tuple(host.agents)) for host in hosts)
        self.connections = {host.name: HostConnection(host) for host in hosts}
        self._pumps = {host.name: HostPump(self.connections[host.name], functools.partial(self._install, host.name), host.python) for host in hosts}
        self._reads = {host.name: OutputReads(self._pumps[host.name], read_window_s) for host in hosts}
        self._exits = {host.name: ExitWatch(self._pumps[host.name], poll_s, host.lost_after_s) for host in hosts}
        self._prepares = {host.name: PrepareBatches(functools.partial(self._prepare_batch, host.name)) for host in hosts}
        self._install_locks = {host.name: asyncio.Lock() for host in hosts}
        self._installed: dict[str, str] = {}
        self._bases: dict[str, str] = {}
        """Session id -> the ref its branch was made from, as prepare found it on the host."""
        self.stacking = HostStacking(
            name, Path(local_repo) if local_repo is not None else None, local_executor, self.config,
            lambda host, script, stdin: self._connection(host).run(script, stdin=stdin, timeout_s=GIT_TIMEOUT_S),
        )
        """Stacked dependants' branches on the hosts: brought there, checked before a start."""
        self._stacks: dict[tuple[str, str], str] = {}
        """(host, worktree) -> the prepare script's stacking arguments of the session being prepared there."""
        self._bundle = runner_bundle()
        self._probes: dict[str, asyncio.Task[HostStatus]] = {}
        """Host -> its probe, the latest one (done or still out)."""

    # -- placement and paths ------------------------------------------------------------------
    def config(self, host: str) -> HostConfig:
        try:
            return self.configs[host]
        except KeyError:
            raise ExecutorError(f"no SSH host named {host!r} is configured", error_class=HOST_DOWN) from None

    def _connection(self, host: str) -> HostConnection:
        self.config(host)
        return self.connections[host]

    def locate(self, order: WorkOrder, host: str) -> SessionPaths:
        config = self.config(host)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", order.repo)
        folder = f"{order.repo.replace('/', '-')}-issue-{order.number}" if order.multi_repo and order.repo else f"issue-{order.number}"
        return SessionPaths(
            session_dir=f"{config.sessions_dir.rstrip('/')}/{slug}-{order.number}/attempt-{order.attempt}-{order.token}",
            worktree=f"{config.worktrees_path}/{folder}",
            branch=branch_name(order.number, order.repo, order.multi_repo),
        )

    @staticmethod
    def session_dir(session: SessionInfo) -> str:
        return getattr(session, "folder", "") or posixpath.dirname(session.log_path)

    # -- workspace ----------------------------------------------------------------------------
    async def prepare(self, session: SessionInfo) -> PreparedWorkspace:
        """Fetch in the host's clone, then reuse (after checking it) or create the issue's worktree.

        Sessions placed on a host at the same time share one command (`ssh_prepare`).
        """
        self.config(session.host)
        stack = stack_of(session)
        if session.shipped_branches:
            await self.stacking.ship(session.host, session.shipped_branches)
        key = (session.host, session.worktree)
        self._stacks[key] = stack_arguments(stack) if stack.start else ""
        try:
            lines = await self._prepares[session.host].prepare(session.worktree, session.branch)
        finally:
            self._stacks.pop(key, None)
        conflict = conflict_in(lines, session.issue, stacked_of(session))
        if conflict is not None:
            raise ExecutorError(f"{session.host}: {conflict}", error_class="blockers_conflict")
        for line in lines:
            if line.startswith("REFUSE "):
                raise ExecutorError(f"{session.host}: {line[7:]}", error_class="workspace")
        done = next((line.split() for line in lines if line.startswith("OK ")), None)
        if done is None or len(done) < 3:
            said = "; ".join(line for line in lines if not line.startswith("PATH ")) or "no answer"
            raise ExecutorError(f"{session.host}: preparing {session.worktree} failed: {said}", error_class="workspace")
        path = next((line[5:] for line in lines if line.startswith("PATH ")), session.worktree)
        self._bases[session.session_id] = done[2]
        return PreparedWorkspace(path=path, branch=session.branch, base=done[2], reused=done[1] == "reused")

    async def _prepare_batch(self, host: str, items: list[tuple[str, str]]) -> list[list[str]]:
        """One command preparing `items` in turn on the host; each item's lines (the clone's warnings included)."""
        config = self.config(host)
        relative = not config.worktrees_dir.startswith(("/", "~/"))
        exclude = f"/{config.worktrees_dir.strip('/')}/" if relative else ""
        stacks = {worktree: self._stacks.get((host, worktree), "") for worktree, _ in items}
        script = prepare_script(config.repo_path, items, config.base_branch, exclude, stacks)
        result = await self._connection(host).run(script, timeout_s=GIT_TIMEOUT_S + PREPARE_EACH_S * len(items))
        for line in result.text.splitlines():
            if line.startswith("WARN "):  # about the clone (a failed fetch): once per batch, not per session
                log.warning("%s: %s", host, line[5:])
        answers = split_items(result.text, len(items))
        if result.returncode not in (0, 3) and result.error_text:
            # The script itself failed (a shell error): say so for every item without an answer.
            answers = [lines if any(line.startswith(("OK ", "REFUSE ")) for line in lines) else lines + [result.error_text.strip()] for lines in answers]
        return answers

    def stacks_from(self, base: StackBase, host: str) -> bool:
        """Whether a session on `host` can start from a blocker's branch (see `HostStacking`)."""
        return self.stacking.stacks_from(base, host)

    async def check_blockers(
        self, branch: str, dependant: str, stacked_on: Merge, merges: Sequence[Merge], unless_heads: tuple[tuple[str, str], ...] = (),
        *, host: str = "", shipped: Sequence[str] = (),
    ) -> BlockersCheck:
        """Whether a dependant's blockers' branches merge in `host`'s clone, before its session exists (see `HostStacking`)."""
        return await self.stacking.check(host, branch, dependant, [stacked_on, *merges], unless_heads, shipped)

    def base_branch(self, session: SessionInfo) -> str:
        """The ref the issue branch started from: what prepare used, else (a session reattached
        after a restart) the configured base on the host's remote, else the remote's default."""
        if session.session_id in self._bases:
            return self._bases[session.session_id]
        base = self.config(session.host).base_branch
        return f"origin/{base}" if base else "origin/HEAD"

    # -- running ------------------------------------------------------------------------------
    async def _install(self, host: str) -> str:
        """The host's folder holding this version of the runner, copied there on first use."""
        if host in self._installed:
            return self._installed[host]
        config = self.config(host)
        digest, files = self._bundle
        folder = f"{config.cache_dir.rstrip('/')}/runner-{digest}"
        async with self._install_locks[host]:
            if host not in self._installed:
                result = await self._connection(host).run(install_script(folder, config.python), stdin=json.dumps(files).encode())
                if result.returncode != 0:
                    raise ExecutorError(f"{host}: cannot install the session runner in {folder}: {result.error_text}", error_class="host_refused")
                self._installed[host] = result.text.strip() or folder
        return self._installed[host]

    async def start(self, session: SessionInfo, spec: LaunchSpec) -> int | None:
        """Write the spec's files into the session folder and start the runner detached; its pid."""
        config = self.config(session.host)
        folder = await self._install(session.host)
        env = {name: value for name, value in spec.env.items() if name not in HOST_OWN_ENV}
        env.update(config.env)
        order = {
            "session_dir": self.session_dir(session), "argv": list(spec.argv), "cwd": spec.cwd, "env": env,
            "inherit": list(HOST_OWN_ENV), "path_prepend": list(config.path_prepend),
            "files": dict(getattr(spec, "files", None) or {}), "stdin_file": getattr(spec, "stdin_file", "") or "",
            "stdin_via_runner": "WATERSPIDER_RUNNER_STDIN" in self._bundle[1]["runner.py"],
            "nice": config.niceness, "orphan_after_s": config.orphan_stop_after_s, "orphan_check_s": min(5.0, max(0.2, config.orphan_stop_after_s / 4)),
        }
        command = f"exec {remote_path(config.python)} -I -S {remote_path(folder + '/ssh_launcher.py')} {remote_path(folder + '/runner.py')}"
        result = await self._connection(session.host).run(command, stdin=json.dumps(order).encode())
        words = result.text.split()
        if result.returncode != 0 or not words or not words[0].isdigit():
            raise ExecutorError(f"{session.host}: cannot start the session: {result.error_text or result.text}", error_class="crashed")
        if len(words) > 1 and words[1] == "existing":
            log.info("%s: session %s was already started (pid %s); not starting it twice", session.host, session.session_id, words[0])
        return int(words[0]) or None

    async def read_output(self, session: SessionInfo, offset: int, limit: int = 1 << 20) -> bytes:
        """The agent's stdout from `offset`; b"" while the host cannot be reached (`wait` decides when it is lost)."""
        try:
            self.config(session.host)
            return await self._reads[session.host].read(session.log_path, offset, limit)
        except ExecutorError as error:
            log.debug("%s: output of %s not read: %s", session.host, session.session_id, error)
            return b""

    def lost_after_s(self, host: str) -> float:
        """How long the host may stay out of reach before its sessions are taken as lost."""
        return self.config(host).lost_after_s

    def output_live(self, session: SessionInfo) -> bool:
        """Silence is judged a stall only while the host answers: out of reach, its output cannot arrive."""
        connection = self.connections.get(session.host)
        return connection is None or connection.down_since is None

    async def state(self, session: SessionInfo) -> SessionState:
        """Alive, ended with its exit, or gone; raises `host_down` when the host cannot be asked."""
        self.config(session.host)
        _, states = await self._pumps[session.host].ask(state=[self.session_dir(session)])
        if not states:
            raise ExecutorError(f"{session.host}: no answer about session {session.session_id}", error_class=HOST_DOWN)
        found = states[0]
        if found.exit is not None:
            return SessionState(alive=False, exit=found.exit)
        if found.pid is not None:
            return SessionState(alive=found.alive)
        starting = not found.gone_without_exit
        return SessionState(alive=starting, spawned=starting)

    async def wait(self, session: SessionInfo) -> ExitStatus:
        self.config(session.host)
        return await self._exits[session.host].wait(self.session_dir(session))

    async def stop(self, session: SessionInfo, grace_s: float) -> None:
        """TERM the session's process group, KILL it after `grace_s`; a host that cannot be reached is logged
        (the session's watchdog stops it once its lease runs out)."""
        try:
            result = await self._connection(session.host).run(stop_script(self.session_dir(session), grace_s), timeout_s=grace_s + self.config(session.host).command_timeout_s)
        except ExecutorError as error:
            log.warning("%s: could not stop session %s: %s", session.host, session.session_id, error)
            return
        log.info("%s: stop of session %s: %s", session.host, session.session_id, result.text.strip() or result.error_text)

    async def git(self, session: SessionInfo, *args: str, timeout_s: float = 60.0) -> CommandResult:
        config = self.config(session.host)
        try:
            result = await self._connection(session.host).run(git_script(session.worktree, config.repo_path, args), timeout_s=timeout_s)
        except CommandTimedOut:
            return CommandResult(returncode=124, stdout="", stderr=f"git {' '.join(args)} timed out after {timeout_s:.0f}s on {session.host}")
        return CommandResult(returncode=result.returncode if result.returncode is not None else 255, stdout=result.text, stderr=result.error_text)

    async def run(
        self, session: SessionInfo, argv: Sequence[str], timeout_s: float, *,
        env: Mapping[str, str] | None = None, output_limit: int = 64_000,
    ) -> CommandResult:
        """A command in the session's worktree on its host (the gate's checks); see Executor.run."""
        config = self.config(session.host)
        spec = {
            "argv": list(argv), "cwd": session.worktree, "timeout_s": timeout_s, "limit": output_limit,
            "path": ":".join(config.path_prepend), "env": dict(env or {}),
        }
        try:
            result = await self._connection(session.host).run(
                run_command_script(config.python), stdin=json.dumps(spec).encode(), timeout_s=timeout_s + config.command_timeout_s,
            )
        except CommandTimedOut:
            return CommandResult(returncode=124, stdout="", stderr=f"{argv[0] if argv else '?'} did not end on {session.host}", timed_out=True)
        try:
            answer = json.loads(result.text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return CommandResult(returncode=result.returncode if result.returncode is not None else 255, stdout=result.text, stderr=result.error_text)
        return CommandResult(returncode=int(answer["returncode"]), stdout=str(answer["output"]), timed_out=bool(answer["timed_out"]))

    # -- hosts --------------------------------------------------------------------------------
    async def probe(self) -> list[HostStatus]:
        """Every host's status, each probed on its own: a host whose probe is still out (slow, or hung
        until its timeout) is left out of this answer instead of holding up the others', and is not
        probed twice at once."""
        for name in self.configs:
            if name not in self._probes or self._probes[name].done():
                self._probes[name] = asyncio.create_task(self.probe_host(name))
        await asyncio.wait(self._probes.values(), timeout=PROBE_WAIT_S)
        return [task.result() for task in self._probes.values() if task.done() and not task.cancelled()]

    async def probe_host(self, name: str) -> HostStatus:
        """One host's load, cores, memory, free disk and running sessions; unreachable with the reason."""
        config = self.config(name)
        base = {"name": name, "slots_total": config.slots, "labels": tuple(config.labels), "probed_at": time.time()}
        try:
            result = await self._connection(name).run(probe_script(config.worktrees_path, config.sessions_dir))
        except ExecutorError as error:
            return host_status(**base, reachable=False, error=str(error))
        reading = parse_probe(result.text)
        return host_status(
            **base, reachable=True, slots_used=reading.sessions_running or 0, load=reading.load1, cores=reading.cores,
            mem_percent=reading.mem_percent, mem_pressure=reading.mem_pressure, disk_free_gb=reading.disk_free_gb, os=reading.os,
        )

    async def close(self) -> None:
        for probe in self._probes.values():
            probe.cancel()
        for pump in self._pumps.values():
            pump.close()
        for reads in self._reads.values():
            reads.close()
        for exits in self._exits.values():
            exits.close()
        await asyncio.gather(*(connection.close() for connection in self.connections.values()))
