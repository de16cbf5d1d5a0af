"""The control center's collector policy: old objects frozen, full collections when due and quiet."""

from __future__ import annotations

import gc
import weakref
from typing import Iterator

import pytest

from waterspider_tui.ui.gc_pauses import GcPauses

from .pilots import started


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """How many objects each full collection found unreachable, while the test runs."""
    found: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            found.append(info["collected"])

    gc.callbacks.append(callback)
    yield found
    gc.callbacks.remove(callback)
    gc.unfreeze()


def test_start_freezes_the_heap_and_stop_gives_it_back() -> None:
    pauses = GcPauses(clock=_Clock())
    pauses.start()
    try:
        assert gc.get_freeze_count() > 1000
    finally:
        pauses.stop()
    assert gc.get_freeze_count() == 0
    assert not pauses.active


def test_young_objects_are_frozen_every_period_and_cycles_among_them_freed_by_the_full_collection(full_collections: list[int]) -> None:
    clock = _Clock()
    pauses = GcPauses(refreeze_every_s=2, full_every_s=300, quiet_s=2, clock=clock)
    pauses.start()
    kept = [_Cycle() for _ in range(500)]
    watched = [weakref.ref(item) for item in kept]
    frozen_before = gc.get_freeze_count()
    clock.now += 1
    pauses.tick()
    assert gc.get_freeze_count() == frozen_before, "not due yet"
    clock.now += 1
    pauses.tick()
    assert gc.get_freeze_count() >= frozen_before + 500
    del kept
    gc.collect()
    assert all(ref() is not None for ref in watched), "frozen cycles are left to the full collection"
    clock.now += 300
    pauses.tick()
    assert all(ref() is None for ref in watched), "the full collection freed them"
    assert full_collections[-1] >= 500
    pauses.stop()


def test_a_full_collection_waits_for_a_quiet_moment_but_not_forever(full_collections: list[int]) -> None:
    clock = _Clock()
    pauses = GcPauses(refreeze_every_s=2, full_every_s=300, quiet_s=2, clock=clock)
    pauses.start()
    full_collections.clear()
    clock.now += 300
    pauses.note_input()
    pauses.tick()
    assert full_collections == [], "the operator just pressed a key"
    clock.now += 1
    pauses.tick()
    assert full_collections == []
    clock.now += 1
    pauses.tick()
    assert len(full_collections) == 1, "two quiet seconds: due"
    for _ in range(300):  # an operator who never stops typing still gets one within two periods
        clock.now += 2
        pauses.note_input()
        pauses.tick()
    assert len(full_collections) == 2
    pauses.stop()


async def test_the_app_freezes_while_it_runs_and_notes_key_presses() -> None:
    async with started() as (app, _engine, pilot):
        assert app._gc_pauses.active and gc.get_freeze_count() > 0
        before = app._gc_pauses._input_at
        await pilot.press("down")
        assert app._gc_pauses._input_at > before
    assert not app._gc_pauses.active and gc.get_freeze_count() == 0
