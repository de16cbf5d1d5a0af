"""Events to and from JSON for the log, by their registered type names."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from waterspider_tui.core.events import EVENT_TYPES, Event


@lru_cache(maxsize=None)
def _adapter(event_type: type[Event]) -> TypeAdapter[Any]:
    return TypeAdapter(event_type)


def encode(event: Event) -> str:
    data = _adapter(type(event)).dump_python(event, mode="json")
    data.pop("seq", None)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode(type_name: str, payload: str, seq: int) -> Event:
    """Rebuild a stored event; an unknown type name is a newer schema's and raises KeyError."""
    data = json.loads(payload)
    data["seq"] = seq
    return _adapter(EVENT_TYPES[type_name]).validate_python(data)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with `event` (the type name), `ts`, and `issue` where one is concerned."""
    data = _adapter(type(event)).dump_python(event, mode="json")
    data = {"event": event.type, "ts": data.pop("ts"), "seq": data.pop("seq"), "issue": event.issue_key, **data}
    return data
