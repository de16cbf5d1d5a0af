"""The keys that lead from an issue to its work: its pull request (`o`), a shell in its worktree
(`s`), its diff (`D`), and the results of every finished session (`R`)."""

from __future__ import annotations

import asyncio
import shlex
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from textual import work
from textual.app import App, SuspendNotSupported

from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.browser import open_in_browser
from waterspider_tui.ui.screens.diff_pager import DiffScreen
from waterspider_tui.ui.screens.summary import SummaryScreen
from waterspider_tui.ui.shell import run_shell

if TYPE_CHECKING:
    from waterspider_tui.core.state import TaskRecord
    from waterspider_tui.ui.app import WaterspiderApp

WORKTREE_ACTIONS = ("open_pull_request", "open_shell", "open_diff")
"""Actions on the selected issue's work; they apply once it has run (the PR once there is one)."""


def pull_request_of(task: TaskRecord | None) -> tuple[str, str]:
    """(`PR #501`, its URL) from what the pull-request step recorded, else from the agent's own words."""
    if task is None:
        return "", ""
    recorded = str(task.session.facts.get("pr_url", "")) if task.session is not None else ""
    return fmt.pr_link(recorded, task.result.summary if task.result else "")


def worktree_action_applies(action: str, task: TaskRecord | None) -> bool | None:
    """True when the action applies to the task, None (greyed) when not."""
    if task is None:
        return None
    if action == "open_pull_request":
        return True if pull_request_of(task)[1] else None
    return True if task.session is not None or task.history else None


class WorktreeKeys:
    """The App's actions for these keys (mixed into WaterspiderApp)."""

    _terminal_lent = False

    @contextmanager
    def terminal_handed_over(self: WaterspiderApp) -> Iterator[None]:
        """While the shell has the terminal, the bell and the clipboard keep out of the stopped driver,
        and the notifiers' terminal output waits; it comes once, together, when the terminal is back."""
        self._terminal_lent = True
        try:
            with self.engine.hold_terminal_output():
                yield
        finally:
            self._terminal_lent = False

    def bell(self: WaterspiderApp) -> None:
        if not self._terminal_lent:
            App.bell(self)

    def copy_to_clipboard(self: WaterspiderApp, text: str) -> None:
        if self._terminal_lent:
            self._clipboard = text
        else:
            App.copy_to_clipboard(self, text)

    def action_open_pull_request(self: WaterspiderApp) -> None:
        key = self.current_issue()
        if key:
            self.open_pull_request(key)

    def open_pull_request(self: WaterspiderApp, key: str) -> None:
        """The issue's pull request in the browser, or its address where there is no browser."""
        label = self.view.label(key) if self.view else key
        text, url = pull_request_of(self.view.task(key) if self.view else None)
        if not url:
            self.notify(f"{label} has no pull request yet.", severity="warning")
        elif open_in_browser(url):
            self.notify(f"{text} of {label} opened in the browser: {url}")
        else:
            self.copy_to_clipboard(url)
            self.notify(f"No browser to open it with (set $BROWSER). {text} of {label}:\n{url}", title="Pull request", timeout=30)

    def action_open_shell(self: WaterspiderApp) -> None:
        key = self.current_issue()
        if key:
            self.open_shell(key)

    def open_shell(self: WaterspiderApp, key: str) -> None:
        """A shell in the issue's worktree here; for another host, the command that opens one there."""
        target = self.engine.shell_target(key)
        label = self.view.label(key) if self.view else key
        if target.reason:
            self.notify(target.reason, severity="warning")
        elif target.command:
            self.copy_to_clipboard(target.command)
            self.notify(f"{label}'s worktree is on {target.host}. Open a shell there with:\n{target.command}", title="Shell", timeout=60)
        elif not Path(target.folder).is_dir():
            self.notify(f"{label}'s worktree {target.folder} is gone.", severity="warning")
        else:
            self._shell_in(target.folder, label)

    @work(group="shell", exclusive=True, exit_on_error=False)
    async def _shell_in(self: WaterspiderApp, folder: str, label: str) -> None:
        """Step aside for the operator's shell; the engine keeps running meanwhile (the shell waits in a thread).

        Nothing is drawn while the shell has the terminal: the driver's writer is stopped, so frames
        drawn meanwhile would fill its queue and block the event loop, engine included. The batch
        encloses the suspension so the screen repaints once, after the terminal is back."""
        try:
            with self.batch_update(), self.terminal_handed_over(), self.suspend():
                code = await asyncio.to_thread(run_shell, folder)
        except SuspendNotSupported:
            self.notify(f"This terminal cannot hand over to a shell. Open one yourself:\ncd {shlex.quote(folder)}", title="Shell", timeout=60)
            return
        except OSError as error:
            self.notify(f"The shell did not start: {error}", severity="error")
            return
        self.notify(f"Back from the shell in {label}'s worktree" + (f" (it exited {code})." if code else "."))

    def action_open_diff(self: WaterspiderApp) -> None:
        key = self.current_issue()
        if key:
            self.open_diff(key)

    def open_diff(self: WaterspiderApp, key: str) -> None:
        self.push_screen(DiffScreen(key))

    def action_open_summary(self: WaterspiderApp) -> None:
        if not isinstance(self.screen, SummaryScreen):
            self.push_screen(SummaryScreen())
