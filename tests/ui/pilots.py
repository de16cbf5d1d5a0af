"""Helpers to drive the control center in tests: start it on a scenario, let it settle, read it."""

from __future__ import annotations

import io
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

from rich.console import Console
from textual.pilot import Pilot

from waterspider_tui.ui.app import WaterspiderApp
from waterspider_tui.ui.widgets.queue_table import QueueTable

from . import scenarios
from .fakes import FakeEngine


def make_app(scenario: str | scenarios.Scenario = "mid_run", **kwargs: Any) -> tuple[WaterspiderApp, FakeEngine]:
    """An app on a fresh FakeEngine for a named scenario, with the frozen clock."""
    chosen = getattr(scenarios, scenario)() if isinstance(scenario, str) else scenario
    engine = chosen.engine()
    app = WaterspiderApp(engine, clock=lambda: scenarios.NOW, **kwargs)
    # Every snapshot renders at once, so tests need not wait out the rebuild cap (tested on its own).
    app.snapshot_interval_s = 0.0
    return app, engine


@asynccontextmanager
async def started(
    scenario: str | scenarios.Scenario = "mid_run", size: tuple[int, int] = (120, 36), **kwargs: Any
) -> AsyncIterator[tuple[WaterspiderApp, FakeEngine, Pilot[int]]]:
    app, engine = make_app(scenario, **kwargs)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield app, engine, pilot


async def settle(pilot: Pilot[Any]) -> None:
    """Let submitted commands finish and their snapshots render."""
    app = pilot.app
    commands = [worker for worker in app.workers if worker.group in ("commands", "shutdown")]
    if commands:
        await app.workers.wait_for_complete(commands)
    await pilot.pause()
    await pilot.pause()


def table(app: WaterspiderApp, panel: str) -> QueueTable:
    return app.screen.query_one(f"#{panel}-table", QueueTable)


def screen_lines(app: WaterspiderApp) -> list[str]:
    """The terminal's text as it is drawn now, one string per row (the screenshot's text)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text().splitlines()


def notifications(app: WaterspiderApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def select(pilot: Pilot[Any], key: str) -> None:
    """Put the cursor on an issue, as the operator would with the arrows."""
    app = pilot.app
    assert isinstance(app, WaterspiderApp)
    app.jump_to(key)
    await pilot.pause()
    assert app.selected_issue == key, f"{key} not selected (selected: {app.selected_issue})"


def run_before_selecting(key: str) -> Callable[[Pilot[Any]], Any]:
    """A snapshot `run_before` that selects an issue first."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await select(pilot, key)

    return run_before
