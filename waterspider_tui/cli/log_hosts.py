"""A session's log on the SSH host it ran on, read over SSH for `waterspider log show`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from waterspider_tui.adapters.executors.base import ExecutorError
from waterspider_tui.adapters.executors.ssh import SshExecutor
from waterspider_tui.adapters.executors.ssh_connection import remote_path

if TYPE_CHECKING:
    from waterspider_tui.config import Settings
    from waterspider_tui.core.models import SessionInfo

CHUNK_BYTES = 1 << 20


class LogNotReadable(Exception):
    """Why the log cannot be read: the host is not configured, cannot be reached, or the file is gone."""


class HostLog:
    """The log file of one session on its host, over one SSH connection kept while it is read."""

    def __init__(self, settings: Settings, session: SessionInfo, label: str) -> None:
        config = next((host for host in settings.hosts if host.name == session.host), None)
        if config is None:
            raise LogNotReadable(f"the log of {label} is on {session.host}, which is not a [[hosts]] entry of this configuration: add it to read the log")
        self.session = session
        self.label = label
        self.executor = SshExecutor([config])
        self.runner = asyncio.Runner()

    def check(self) -> None:
        """Raises LogNotReadable when the host does not answer or has no such file."""
        path = self.session.log_path
        try:
            answer = self.runner.run(self.executor.connections[self.session.host].run(f"[ -f {remote_path(path)} ] && echo found || echo missing"))
        except ExecutorError as error:
            raise LogNotReadable(f"the log of {self.label} is on {self.session.host}, which cannot be reached now: {error}") from error
        if answer.text.strip() != "found":
            raise LogNotReadable(f"the log of {self.label} is not on {self.session.host} at {path}: removed (waterspider clean, or by hand)")

    def read(self, offset: int) -> bytes:
        """What the file holds past `offset` (nothing while the host cannot be reached)."""
        data = b""
        while chunk := self.runner.run(self.executor.read_output(self.session, offset + len(data), CHUNK_BYTES)):
            data += chunk
        return data

    def close(self) -> None:
        self.runner.run(self.executor.close())
        self.runner.close()
