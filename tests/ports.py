"""Loopback ports for servers a test stops and starts again on the same port (sshd standing for a host).

A port picked by binding port 0 comes from the kernel's ephemeral range, the range it also takes
the source port of every outgoing connection from. While such a server is down, any connection
made on the machine (by this run, a parallel worker or another run) may take its port, and a
connection to a port nobody listens on can even be given that very port as its own source and
connect to itself. Either way the server cannot bind again, or a readiness check "connects"
to no server at all.

So these ports come from below (or above) the ephemeral range, where the kernel never picks
on its own. Each xdist worker draws from its own slice, starting at a random place in it so that
two runs at once rarely meet; a port is handed out only if it can be bound at that moment, and
never twice in one process.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

LOWEST = 20000
HIGHEST = 65535
_given: set[int] = set()


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for source ports (Linux's default where /proc does not say)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def pool() -> list[int]:
    """Every port this module may hand out: outside the ephemeral range, from LOWEST up."""
    low, high = ephemeral_range()
    return [port for port in range(LOWEST, HIGHEST + 1) if not low <= port <= high]


def worker_slice(ports: list[int], worker: str | None = None, workers: str | None = None) -> list[int]:
    """This xdist worker's share of `ports` (all of them outside xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "") if worker is None else worker
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") if workers is None else workers
    count = max(int(workers or 1), 1)
    index = int(worker[2:]) % count if worker.startswith("gw") and worker[2:].isdigit() else 0
    size = len(ports) // count
    return ports[index * size:(index + 1) * size]


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT does not count as taken
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def reserve_port() -> int:
    """A loopback port no one listens on now, that the kernel will not give to a connection, and that
    this process has not handed out before."""
    ports = worker_slice(pool())
    start = random.randrange(len(ports))
    for port in ports[start:] + ports[:start]:
        if port not in _given and bindable(port):
            _given.add(port)
            return port
    raise RuntimeError(f"no free loopback port left in {ports[0]}-{ports[-1]}")
