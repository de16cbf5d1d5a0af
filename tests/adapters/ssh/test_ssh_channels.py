"""A host that refuses channels (sshd's MaxSessions reached) slows commands down; it loses none of them."""

from __future__ import annotations

import asyncio
from typing import Callable

from waterspider_tui.adapters.executors.ssh_connection import HostConnection

from sshd_server import SshServer


async def test_more_commands_than_the_host_allows_channels_all_run_on_the_one_connection(make_server: Callable[[str], SshServer]) -> None:
    server = make_server("mini-1")
    server.max_sessions = 2
    server.restart()
    connection = HostConnection(server.host(max_channels=8))  # asks for more channels at once than sshd grants
    try:
        first = await connection.connect()
        results = await asyncio.gather(*(connection.run(f"sleep 0.2; echo {index}") for index in range(12)))
        assert [result.text.strip() for result in results] == [str(index) for index in range(12)]
        assert all(result.returncode == 0 for result in results)
        assert await connection.connect() is first, "a refused channel is no reason to drop the connection"
        assert "no more sessions" in server.log.read_text(), "sshd did refuse channels"
    finally:
        await connection.close()
