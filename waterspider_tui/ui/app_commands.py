"""The keys that command the engine: pausing, bumping, pinning, requeueing, cancelling, polling,
draining a host; each sent in the background, its answer shown as a notification."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.worker import Worker

from waterspider_tui.core import commands as cmd
from waterspider_tui.core.models import TaskState
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.screens.modals import ConfirmScreen
from waterspider_tui.ui.widgets.hosts import HostsPanel

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp


class EngineCommandKeys:
    """The App's actions that submit engine commands (mixed into WaterspiderApp)."""

    def on_hosts_panel_drain_requested(self: WaterspiderApp, message: HostsPanel.DrainRequested) -> None:
        self.submit(cmd.DrainHost(host=message.host) if message.drain else cmd.RestoreHost(host=message.host))

    def submit(self: WaterspiderApp, command: cmd.Command) -> Worker[None]:
        """Send a command to the engine in the background; its answer becomes a notification."""
        return self.run_worker(self._submit(command), group="commands", exit_on_error=False)

    async def _submit(self: WaterspiderApp, command: cmd.Command) -> None:
        try:
            confirmation = await self.engine.submit(command)
        except ValueError as error:
            self.notify(str(error), title="Not done", severity="warning")
            return
        except Exception as error:  # the engine failing must not take the UI down
            self.notify(f"{type(error).__name__}: {error}", title="Command failed", severity="error", timeout=15)
            return
        # The engine has carried the command out: show its effect now, not at the next rebuild slot.
        self.refresh_view()
        # The confirmation toast lays out the screen; it follows the frame that shows the effect.
        self.call_after_refresh(self.notify, confirmation or "done")

    def requeue_failed(self: WaterspiderApp, error_class: str | None = None) -> Worker[None]:
        """Requeue every failed issue (of one error class, if given), one command each; one notification."""
        snapshot = self.engine.snapshot
        keys = [
            task.key for task in snapshot.tasks_in(TaskState.FAILED)
            if error_class is None or (task.result is not None and task.result.error_class is not None and task.result.error_class.value == error_class)
        ]
        return self.run_worker(self._submit_all([cmd.Requeue(issue=key) for key in keys]), group="commands", exit_on_error=False)

    async def _submit_all(self: WaterspiderApp, commands: list[cmd.Command]) -> None:
        done = 0
        refused: list[str] = []
        for command in commands:
            try:
                await self.engine.submit(command)
                done += 1
            except Exception as error:  # one refusal does not stop the rest
                refused.append(str(error))
        self.refresh_view()
        message = f"{done} issue{'s' if done != 1 else ''} requeued" if done else "Nothing was requeued."
        if refused:
            message += f"; {len(refused)} refused: {refused[0]}"
        self.call_after_refresh(self.notify, message, severity="warning" if refused else "information")

    def action_toggle_dispatcher(self: WaterspiderApp) -> None:
        paused = self.view is not None and self.view.snapshot.dispatcher_paused
        self.submit(cmd.ResumeDispatcher() if paused else cmd.PauseDispatcher())

    def action_toggle_issue(self: WaterspiderApp) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.ResumeIssue(issue=task.key) if task.overrides.paused else cmd.PauseIssue(issue=task.key))

    def action_bump(self: WaterspiderApp, delta: int) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.Bump(issue=task.key, delta=delta))

    def action_pin(self: WaterspiderApp) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.Pin(issue=task.key, pinned=not task.overrides.pinned))

    def action_requeue(self: WaterspiderApp) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.Requeue(issue=task.key))

    def action_cancel_session(self: WaterspiderApp) -> None:
        task = self._selected_task()
        if task is not None:
            self.confirm_cancel(task.key)

    def confirm_cancel(self: WaterspiderApp, key: str) -> None:
        """Ask before cancelling a running session; submit Cancel only on yes."""
        task = self.view.task(key) if self.view else None
        title = f" {fmt.truncate(task.issue.title, 50)}" if task else ""
        label = self.view.label(key) if self.view else key
        question = f"Cancel the running session of {label}{title}?\nIts worktree is kept; requeue it later with r."

        def answered(yes: bool | None) -> None:
            if yes:
                self.submit(cmd.Cancel(issue=key))

        self.push_screen(ConfirmScreen(question, "Cancel session", "Keep running"), answered)

    def action_refresh(self: WaterspiderApp) -> None:
        self.submit(cmd.Refresh())
