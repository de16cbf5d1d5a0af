"""The test servers' ports: never in the kernel's ephemeral range, one slice per xdist worker, none twice."""

from __future__ import annotations

import socket

from tests.ports import bindable, ephemeral_range, pool, reserve_port, worker_slice


def test_ports_are_outside_the_ephemeral_range_and_not_handed_out_twice() -> None:
    low, high = ephemeral_range()
    ports = [reserve_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert not [port for port in ports if low <= port <= high]


def test_workers_draw_from_slices_that_do_not_overlap() -> None:
    ports = pool()
    slices = [set(worker_slice(ports, f"gw{index}", "4")) for index in range(4)]
    assert all(slices) and sum(len(part) for part in slices) <= len(ports)
    assert not set.intersection(*slices[:2]) and not slices[0] & slices[3]
    assert worker_slice(ports, "", "1") == ports, "outside xdist: the whole pool"


def test_a_port_someone_listens_on_is_not_bindable() -> None:
    port = reserve_port()
    assert bindable(port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not bindable(port)
