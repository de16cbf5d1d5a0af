"""A warning the event log holds several times (each start warns about the cycle it finds) is one
warning in the snapshot, at the place of its newest telling: the Problems list and the ⚠ count
read the snapshot."""

from __future__ import annotations

from core_builders import T0, key
from waterspider_tui.core import events as ev
from waterspider_tui.core.state import Snapshot, apply, replay

CYCLE = "dependency cycle #1 → #2 → #1: these issues are held until it is broken"
UNKNOWN = "#3 refers to #9, which is not known: not waiting on it"
HOST_DOWN = "mini2 cannot be reached: timed out; no new sessions go there until it answers"


def _numbered(events: list[ev.Event]) -> list[ev.Event]:
    from dataclasses import replace

    return [replace(event, seq=n) for n, event in enumerate(events, start=1)]


def _two_starts_and_a_host_down() -> list[ev.Event]:
    return _numbered([
        ev.Warned(ts=T0, message=CYCLE),
        ev.Warned(ts=T0, issue=key(3), message=UNKNOWN),
        ev.Warned(ts=T0 + 60, message=HOST_DOWN),
        ev.Warned(ts=T0 + 600, message=CYCLE),
        ev.Warned(ts=T0 + 600, issue=key(3), message=UNKNOWN),
    ])


def test_a_warning_told_again_is_listed_once_where_it_was_last_told() -> None:
    assert replay(_two_starts_and_a_host_down()).warnings == (HOST_DOWN, CYCLE, UNKNOWN)


def test_folding_one_event_at_a_time_gives_the_same_warnings() -> None:
    stepwise = Snapshot()
    for event in _two_starts_and_a_host_down():
        stepwise = apply(stepwise, event)
    assert stepwise.warnings == replay(_two_starts_and_a_host_down()).warnings


def test_notices_are_not_warnings_and_different_words_stay_apart() -> None:
    snap = replay(_numbered([
        ev.Warned(ts=T0, message="mini2 answers again: it takes new sessions", notice=True),
        ev.Warned(ts=T0, message=HOST_DOWN),
        ev.Warned(ts=T0 + 1, message=HOST_DOWN.replace("mini2", "mini3")),
    ]))
    assert snap.warnings == (HOST_DOWN, HOST_DOWN.replace("mini2", "mini3"))
