"""Events to and from JSON for the log, by their registered type names."""

from __future__ import annotations

import json
import re
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


_OLD_INTEGRATION_LINE = re.compile(r"^reporting: milestones: (?P<summary>milestone (?P<name>.+?): (?P<text>.+))$", re.DOTALL)
"""How stores written before the milestone events kept the integrator's word: as a warning line."""


def decode(type_name: str, payload: str, seq: int) -> Event:
    """Rebuild a stored event; an unknown type name is a newer schema's and raises KeyError.

    Fields a record lacks take their defaults, and fields this version does not know are
    ignored, so records of older and newer shapes of an event both read.
    """
    data = json.loads(payload)
    data["seq"] = seq
    type_name, data = _upgraded(type_name, data)
    return _adapter(EVENT_TYPES[type_name]).validate_python(data)


def _upgraded(type_name: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An older store's integration warning read as the milestone event it stands for, so the
    notifiers and views that match on the event see it too (the repository was not recorded)."""
    found = _OLD_INTEGRATION_LINE.match(str(data.get("message", ""))) if type_name == "warned" else None
    if found is None:
        return type_name, data
    text = found.group("text")
    upgraded = {"ts": data["ts"], "seq": data["seq"], "repo": "", "milestone": found.group("name"), "summary": found.group("summary")}
    if text.startswith("conflict: "):
        return "milestone_conflict", upgraded
    if re.match(r"\d+ issues integrated", text):
        gate_ok = False if "gate FAILED" in text else (True if "gate passed" in text else None)
        return "milestone_integrated", {**upgraded, "gate_ok": gate_ok}
    return "milestone_blocked", {**upgraded, "reason": text}


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with `event` (the type name), `ts`, and `issue` where one is concerned."""
    data = _adapter(type(event)).dump_python(event, mode="json")
    data = {"event": event.type, "ts": data.pop("ts"), "seq": data.pop("seq"), "issue": event.issue_key, **data}
    return data
