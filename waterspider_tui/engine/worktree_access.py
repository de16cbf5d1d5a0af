"""What the control center asks about an issue's work: the diff of its branch, a shell in its
worktree, and the results of every finished session (the report's own figures)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from waterspider_tui.engine.api import ShellTarget
from waterspider_tui.engine.session_logs import sessions_of
from waterspider_tui.reporting.results import collect
from waterspider_tui.store.event_log import EventLog

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.adapters.executors.ssh_config import HostConfig
    from waterspider_tui.core import events as ev
    from waterspider_tui.core.models import SessionInfo
    from waterspider_tui.core.state import TaskRecord

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DIFF_LIMIT_CHARS = 4_000_000
"""A diff longer than this is cut (with a line saying so): the pager holds it all in memory."""


def latest_session(task: TaskRecord | None) -> SessionInfo | None:
    """The issue's running or last session, None when it never ran."""
    found = sessions_of(task) if task is not None else {}
    return found[max(found)] if found else None


def ssh_command(host: HostConfig, folder: str) -> str:
    """The command that opens a login shell in `folder` on an SSH host, as the operator would type it."""
    login = f"{host.user}@{host.address or host.name}" if host.user else (host.address or host.name)
    argv = ["ssh", "-t"]
    if host.port:
        argv += ["-p", str(host.port)]
    if host.identity_file:
        argv += ["-i", host.identity_file]
    # The files the orchestrator itself reads, where they are not ssh's own defaults.
    if host.ssh_config:
        argv += ["-F", host.ssh_config[0]]
    if host.known_hosts != DEFAULT_KNOWN_HOSTS:
        argv += ["-o", f"UserKnownHostsFile={host.known_hosts}"]
    # `~/` must stay outside the quotes so the remote shell expands it.
    where = "~/" + shlex.quote(folder[2:]) if folder.startswith("~/") else shlex.quote(folder)
    return shlex.join([*argv, login]) + " " + shlex.quote(f'cd {where} && exec "${{SHELL:-/bin/sh}}" -l')


def shell_target(session: SessionInfo | None, *, on_this_machine: bool, host: HostConfig | None, label: str) -> ShellTarget:
    """Where a shell for the session's worktree opens: a folder here, a command to type for an SSH
    host, or why there is none (never ran, a CI runner)."""
    if session is None or not session.worktree:
        return ShellTarget(reason=f"{label} has not run yet: it has no worktree.")
    if host is not None:
        return ShellTarget(command=ssh_command(host, session.worktree), host=host.name)
    if on_this_machine:
        return ShellTarget(folder=session.worktree)
    return ShellTarget(reason=f"{label} ran on {session.host or session.executor} ({session.executor}): its worktree cannot be opened from here.")


def executor_host(executor: Executor, session: SessionInfo) -> HostConfig | None:
    """The SSH settings of the session's host, when its executor reaches hosts over SSH."""
    config = getattr(executor, "config", None)
    if not callable(config):
        return None
    try:
        found = config(session.host)
    except (KeyError, ValueError):
        return None
    return found if hasattr(found, "repo_path") else None


async def branch_diff(executor: Executor, session: SessionInfo, *, timeout_s: float = 60.0) -> str:
    """`git diff` of the session's branch against its base (from where they parted), files first,
    read on the session's host; raises RuntimeError with git's reason when it cannot be read."""
    base = executor.base_branch(session)
    result = await executor.git(
        session, "diff", "--no-color", "--no-ext-diff", "--stat=200", "--patch", f"{base}...{session.branch}", timeout_s=timeout_s,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip() or result.stdout.strip() or f"git exited {result.returncode}").splitlines()[-1]
        raise RuntimeError(f"git diff {base}...{session.branch} on {session.host or session.executor}: {reason}")
    text = result.stdout
    if len(text) > DIFF_LIMIT_CHARS:
        text = text[:DIFF_LIMIT_CHARS] + f"\n… cut at {DIFF_LIMIT_CHARS:,} characters\n"
    return text


def results_figures(events: Iterable[ev.Event]) -> dict[str, Any]:
    """Every finished session's figures, as `waterspider report --format json` has them."""
    return collect(events).figures()


def stored_results_figures(store_path: Path) -> dict[str, Any]:
    """`results_figures` of a store, read through a connection of its own: it runs in a worker
    thread (thousands of sessions take most of a second to read), beside the engine's writes."""
    log = EventLog(store_path, read_only=True)
    try:
        return results_figures(log.read())
    finally:
        log.close()
