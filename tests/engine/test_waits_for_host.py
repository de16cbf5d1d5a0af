"""The engine says why a queued issue waits for a host, from its real pool: a host not probed yet,
drained, an issue's needs no host has, a pin to a host not configured; nothing when one can take it."""

from __future__ import annotations

from tests.engine.conftest import EngineFactory
from waterspider_tui.core import events as ev
from waterspider_tui.core.models import Issue


async def test_why_a_queued_issue_waits_for_a_host(make_engine: EngineFactory) -> None:
    engine = make_engine(None, capacity=1)
    host = engine.pool.host_names[0]
    engine.record(*(ev.IssueSeen(ts=1.0, issue_data=Issue(repo="local", number=number, title=title, labels=labels)) for number, title, labels in (
        (1, "Plain", ()), (2, "Needs a GPU", ("needs:gpu",)), (3, "Pinned elsewhere", ("host:mini-9",)),
    )))
    assert engine.waits_for_host("local#1") == f"waits for a host: {host} not checked yet"

    engine.record(*(ev.HostProbed(ts=2.0, host=status) for status in await engine.pool.probe()))
    assert engine.waits_for_host("local#1") == ""
    assert engine.waits_for_host("local#2") == f"cannot run on any configured host: {host} lacks gpu"
    assert engine.waits_for_host("local#3") == "cannot run on any configured host: pinned to mini-9, which is not a configured host"
    assert engine.waits_for_host("local#404") == ""

    engine.record(ev.HostDrained(ts=3.0, host=host, by="operator"))
    assert engine.waits_for_host("local#1") == f"waits for a host: {host} draining"
