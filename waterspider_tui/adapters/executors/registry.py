"""Executors by their config kind: what `engine/wiring.py` builds the pool from.

A new executor is a module in this folder with a class keeping the Executor protocol
(`base.py`), and one entry here saying how it is built from the settings. SSH is imported
only when hosts are configured: asyncssh costs start-up time a local run does not need; the
GitHub Actions executor likewise only when `[actions]` is enabled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from waterspider_tui.adapters.executors.local import LocalExecutor

if TYPE_CHECKING:
    from waterspider_tui.adapters.executors.base import Executor
    from waterspider_tui.adapters.workspace import WorkspaceManager


def _local(*, workspace: WorkspaceManager, sessions_dir: Path, slots: int, niceness: int, launcher: str = "direct", **_: Any) -> Executor:
    return LocalExecutor(workspace, sessions_dir, slots=slots, niceness=niceness, launcher=launcher)


def _ssh(*, hosts: list[Any], local_repo: Any = None, **_: Any) -> Executor:
    from waterspider_tui.adapters.executors.ssh import SshExecutor

    return SshExecutor(hosts, local_repo=local_repo)


def _actions(*, client: Any, actions: Any, default_repo: str = "", pipeline: Any = None, **_: Any) -> Executor:
    """`actions`: the `[actions]` settings section and a GitHubClient; the repository defaults to `default_repo`;
    `pipeline` (the `[pipeline]` steps and their tables) goes to the runners with each dispatch."""
    from waterspider_tui.adapters.executors.actions import ActionsExecutor

    repo = actions.repo or default_repo
    if not repo:
        raise ValueError("[actions] needs repo = \"owner/name\" (the repository holding the workflow)")
    return ActionsExecutor(
        client, repo, actions.workflow, slots=actions.slots, ref=actions.ref,
        runner_labels=tuple(actions.runner_labels), queued_deadline_s=actions.queued_deadline_s,
        poll_interval_s=actions.poll_interval_s, live_log=actions.live_log, pipeline=pipeline,
    )


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": _local, "ssh": _ssh, "actions": _actions}


def make_executor(kind: str, **parts: Any) -> Executor:
    try:
        build = EXECUTORS[kind]
    except KeyError:
        raise ValueError(f"unknown executor {kind} (known: {', '.join(sorted(EXECUTORS))})") from None
    return build(**parts)
