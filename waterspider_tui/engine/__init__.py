"""The engine: the run's one asyncio loop, the sessions supervisor, its loops, and the wiring."""

from __future__ import annotations

from pathlib import Path

from waterspider_tui.engine.engine import Engine
from waterspider_tui.engine.locks import EngineLocked, RunLocks
from waterspider_tui.engine.policy import SessionPolicy
from waterspider_tui.store.event_log import EventLog
from waterspider_tui.store.state_store import StateStore

__all__ = ["Engine", "EngineLocked", "RunLocks", "SessionPolicy", "open_store"]


def open_store(path: Path) -> StateStore:
    return StateStore(EventLog(path))
