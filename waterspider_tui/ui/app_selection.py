"""The selected issue: which one the issue keys act on, and which of those keys apply to it
(the others are greyed in the key bar)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waterspider_tui.core.models import TaskState
from waterspider_tui.ui.messages import IssueSelected
from waterspider_tui.ui.screens.control import ControlScreen
from waterspider_tui.ui.screens.summary import SummaryScreen
from waterspider_tui.ui.worktree_keys import WORKTREE_ACTIONS, worktree_action_applies

if TYPE_CHECKING:
    from waterspider_tui.core.state import TaskRecord
    from waterspider_tui.ui.app import WaterspiderApp

TASK_ACTIONS = ("toggle_issue", "bump", "pin", "requeue", "cancel_session", "detail", "open_log", *WORKTREE_ACTIONS)
"""Actions that apply to the selected issue; `check_action` greys them out when they do not."""
STATEFUL_ACTIONS = (*TASK_ACTIONS, "problems")
"""Actions whose availability changes with the state; the key bar is refreshed when it does."""


class IssueSelection:
    """The App's selection and the availability of its issue actions (mixed into WaterspiderApp)."""

    def on_issue_selected(self: WaterspiderApp, message: IssueSelected) -> None:
        self.select_issue(message.key)

    def select_issue(self: WaterspiderApp, key: str | None) -> None:
        """The operator moved to an issue: actions now apply to it, the log follows its session."""
        self.selected_issue = key
        task = self.view.task(key) if self.view else None
        if task is not None and (task.session is not None or task.history):
            self.log_issue = key

    def watch_selected_issue(self: WaterspiderApp) -> None:
        self._refresh_action_states()

    def _refresh_action_states(self: WaterspiderApp) -> None:
        """Refresh the footer only when an issue action became (in)applicable.

        Why not on every change: the footer rebuilds itself on each refresh, and the selection
        moves with every cursor step.
        """
        states = tuple(self.check_action(action, ()) for action in STATEFUL_ACTIONS)
        if states != self._action_states:
            self._action_states = states
            self.refresh_bindings()

    def current_issue(self: WaterspiderApp) -> str | None:
        """The issue under the cursor right now.

        Read from the focused table when there is one: keys typed fast can arrive before the
        table's highlight message has updated `selected_issue`.
        """
        screen = self.screen
        if isinstance(screen, ControlScreen):
            key = screen.selected_in_table()
            if key is not None:
                return key
        return self.selected_issue

    def _selected_task(self: WaterspiderApp) -> TaskRecord | None:
        return self.view.task(self.current_issue()) if self.view else None

    def check_action(self: WaterspiderApp, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out issue actions that do not apply to the selected issue's state."""
        if action == "problems":
            snapshot = self.view.snapshot if self.view else None
            return True if snapshot is not None and (snapshot.warnings or snapshot.rejected) else None
        if action not in TASK_ACTIONS:
            return True
        if isinstance(self.screen, SummaryScreen):
            return False  # the results show no selection: an issue key here would act on one out of sight
        task = self._selected_task()
        if task is None:
            return None
        if action == "detail":
            return True
        if action == "open_log":
            return True if task.session is not None or task.history else None
        if action in WORKTREE_ACTIONS:
            return worktree_action_applies(action, task)
        if action in ("toggle_issue", "bump", "pin"):
            return True if task.state is TaskState.QUEUED else None
        if action == "requeue":
            return True if task.state in (TaskState.FAILED, TaskState.CANCELLED) else None
        if action == "cancel_session":
            return True if task.state is TaskState.RUNNING and not task.cancel_requested else None
        return True
