"""The log panel's feed: the followed issue's session log, live lines as the engine sends them,
an ended session's log read from wherever it ran."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from waterspider_tui.core.models import LogEntry, TaskState
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.messages import LogsPending

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp
    from waterspider_tui.ui.screens.control import ControlScreen


class LogPanelFeed:
    """The App's following of one session's log (mixed into WaterspiderApp)."""

    def _session_of(self: WaterspiderApp, key: str | None) -> str | None:
        task = self.view.task(key) if self.view and key else None
        return task.session.session_id if task is not None and task.session is not None else None

    def _on_engine_logs(self: WaterspiderApp, issue_key: str, entries: list[LogEntry]) -> None:
        """Engine callback (any thread): keep only the followed session's lines, post one message."""
        if issue_key != self.log_issue or not entries:
            return
        with self._log_lock:
            self._pending_logs.append((issue_key, entries))
        self.post_message(LogsPending())

    def on_logs_pending(self: WaterspiderApp, message: LogsPending) -> None:
        with self._log_lock:
            pending, self._pending_logs = self._pending_logs, []
        followed = self.log_issue
        entries = [entry for key, batch in pending if key == followed for entry in batch]
        if entries and self._control is not None:
            self._control.append_log(fmt.log_lines(entries))

    def attach_control(self: WaterspiderApp, control: ControlScreen) -> None:
        """The control screen is mounted: it holds the log panel."""
        self._control = control
        self._show_log()

    def watch_log_issue(self: WaterspiderApp) -> None:
        with self._log_lock:
            self._pending_logs.clear()
        self._show_log()

    def _show_log(self: WaterspiderApp) -> None:
        """Show the followed issue's log: a live session's lines at once, any other read in a worker."""
        if self._control is None:
            return
        key = self.log_issue
        task = self.view.task(key) if self.view else None
        if key is None or task is None or task.session is None:
            self._log_session = None
            self._control.show_log(None, "", [])
            return
        session = task.session
        self._log_session = session.session_id
        title = f"{self.view.label(key) if self.view else key} {fmt.truncate(task.issue.title, 40)} · {session.agent} · {session.host or session.executor} · attempt {session.attempt}"
        live = self.engine.session_log(key)
        if task.state is TaskState.RUNNING and live:
            self._control.show_log(key, title, fmt.log_lines(live))
            return
        self._control.show_log(key, title, [], note=f"Reading the log of {self.view.label(key) if self.view else key}…")
        self._load_log(key, title)

    @work(group="log-panel", exclusive=True, exit_on_error=False)
    async def _load_log(self: WaterspiderApp, key: str, title: str) -> None:
        """Read an ended (or just reattached) session's log from wherever it ran."""
        try:
            entries = await self.engine.load_session_log(key)
        except Exception as error:  # a host that cannot be read is a line in the panel, not a crash
            entries = [LogEntry("error", f"the log cannot be read: {type(error).__name__}: {error}")]
        if self.log_issue != key or self._control is None:
            return
        lines = fmt.log_lines(entries)
        self._control.show_log(key, title, lines, note="" if lines else "This session wrote nothing to its log.")
