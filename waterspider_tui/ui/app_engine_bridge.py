"""The bridge from the engine to the screens: the engine's worker, and its snapshots turned into
the view the screens render, bursts of them coalesced into a few rebuilds a second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.css.query import NoMatches
from textual.worker import Worker, WorkerState

from waterspider_tui.ui.messages import SnapshotReady
from waterspider_tui.ui.view import View

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

SNAPSHOT_INTERVAL_S = 0.25
"""Snapshots rebuild the view at most this often (the engine can publish hundreds a second).

An operator's command and the 1 s tick rebuild at once, so a key's effect never waits for it.
"""


class EngineBridge:
    """The App's engine worker and view rebuilds (mixed into WaterspiderApp)."""

    @work(group="engine", exit_on_error=False)
    async def _run_engine(self: WaterspiderApp) -> None:
        assert self._run_engine_fn is not None
        await self._run_engine_fn()

    def on_worker_state_changed(self: WaterspiderApp, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "engine":
            return
        if event.state is WorkerState.ERROR:
            error = worker.error
            self._exit_code = 1
            self.engine_note = f"✘ engine stopped: {type(error).__name__}: {error}"
            self.notify(f"{type(error).__name__}: {error}", title="The engine stopped", severity="error", timeout=60)
            self.refresh_view()
        elif event.state is WorkerState.SUCCESS and not self._stopping:
            self.engine_note = "engine finished"
            self.refresh_view()

    def _on_engine_snapshot(self: WaterspiderApp, snapshot: object) -> None:
        """Engine callback (any thread): hand the snapshot to the UI loop, coalescing bursts."""
        self.post_message(SnapshotReady(snapshot))  # type: ignore[arg-type]

    def on_snapshot_ready(self: WaterspiderApp, message: SnapshotReady) -> None:
        """Rebuild now, or once SNAPSHOT_INTERVAL_S has passed since the last rebuild.

        Bursts of snapshots collapse into one rebuild from the newest, at most ~4 a second.
        """
        if self._rebuild_timer is not None or self._shows_newest_snapshot():
            return
        wait = self._built_at + self.snapshot_interval_s - time.monotonic()
        if wait <= 0:
            self.refresh_view()
        else:
            self._rebuild_timer = self.set_timer(wait, self._deferred_refresh)

    def _deferred_refresh(self: WaterspiderApp) -> None:
        self._rebuild_timer = None
        if not self._shows_newest_snapshot():
            self.refresh_view()

    def _shows_newest_snapshot(self: WaterspiderApp) -> bool:
        """The view already shows the engine's newest snapshot (a command's rebuild got there first)."""
        return self.view is not None and self.view.snapshot is self.engine.snapshot

    def refresh_view(self: WaterspiderApp) -> None:
        """Build the view from the engine's newest snapshot and plan, at the clock's time."""
        if not self.is_running:
            return
        if self._rebuild_timer is not None:
            # This rebuild shows the newest snapshot: the deferred one has nothing left to do.
            self._rebuild_timer.stop()
            self._rebuild_timer = None
        self._built_at = time.monotonic()
        snapshot = self.engine.snapshot
        plan = self.engine.plan()
        self.view = View.build(snapshot, plan, self.clock(), self.engine.capacity, self.engine.title, self.engine.configured_hosts)

    def watch_view(self: WaterspiderApp, view: View | None) -> None:
        if view is None:
            return
        for screen in self.screen_stack:
            render = getattr(screen, "render_view", None)
            if render is None or not screen.is_mounted:
                continue
            try:
                render(view, self.palette)
            except NoMatches:
                # A tick can land while the app shuts down and the screen loses its widgets.
                if self.is_running:
                    raise
        if self.log_issue is None:
            first = next(iter(sorted(view.plan.running)), None)
            if first is not None:
                self.log_issue = first
        elif self._log_session != self._session_of(self.log_issue):
            # The followed issue started another attempt: the panel shows that one alone, from its start.
            self._show_log()
        self._refresh_action_states()
