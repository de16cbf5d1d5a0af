"""The keys that move between screens and panels: an issue's detail and log, the panels, the
filter, the DAG, the problems, and the help with every key as the keymap remaps it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from waterspider_tui.ui.key_map import key_names, key_scopes, keys_of
from waterspider_tui.ui.screens.log_pager import LogScreen
from waterspider_tui.ui.screens.modals import HelpRow, HelpScreen, ProblemsScreen, TaskDetailScreen

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp
    from waterspider_tui.ui.screens.control import ControlScreen


class NavigationKeys:
    """The App's actions that open screens and show panels (mixed into WaterspiderApp)."""

    def action_detail(self: WaterspiderApp) -> None:
        key = self.current_issue()
        if key:
            self.open_detail(key)

    def open_detail(self: WaterspiderApp, key: str) -> None:
        self.push_screen(TaskDetailScreen(key))

    def action_open_log(self: WaterspiderApp) -> None:
        key = self.current_issue()
        if key:
            self.open_log(key)

    def open_log(self: WaterspiderApp, key: str, attempt: int | None = None) -> None:
        """The issue's session log full screen (the last attempt unless one is named)."""
        task = self.view.task(key) if self.view else None
        if task is None or (task.session is None and not task.history):
            self.notify(f"{self.view.label(key) if self.view else key} has not run yet: there is no log.", severity="warning")
            return
        self.push_screen(LogScreen(key, attempt))

    def _to_control(self: WaterspiderApp) -> ControlScreen | None:
        """Bring the queues to the front: from the DAG, and from any screen opened over them
        (results, a pager, a modal), so a panel key or the filter acts where it can be seen."""
        if self.current_mode != "control":
            self.switch_mode("control")
        while self._control is not None and self.screen is not self._control and len(self.screen_stack) > 1:
            self.pop_screen()
        return self._control

    def action_show_panel(self: WaterspiderApp, panel_id: str) -> None:
        control = self._to_control()
        if control is not None:
            control.show_panel(panel_id)

    def action_filter(self: WaterspiderApp) -> None:
        control = self._to_control()
        if control is not None:
            control.open_filter()

    def action_show_dag(self: WaterspiderApp) -> None:
        if self.current_mode == "dag":
            self.switch_mode("control")
        else:
            if self._control is not None and self._control.selected_in_table():
                self.selected_issue = self._control.selected_in_table()
            self.switch_mode("dag")

    def jump_to(self: WaterspiderApp, key: str) -> None:
        """Show the panel that lists an issue, with the cursor on it."""
        control = self._to_control()
        if control is None or not control.reveal(key):
            self.notify(f"{key} is not listed in any queue.", severity="warning")

    def help_rows(self: WaterspiderApp) -> list[HelpRow]:
        """Every key of the control center itself (the first section of the help)."""
        return self.help_sections()[0][1]

    def help_sections(self: WaterspiderApp) -> list[tuple[str, list[HelpRow]]]:
        """(where, rows) for the control center and each screen or panel with keys of its own,
        each row (keys, action, what it does, binding id), the keys as the keymap remaps them."""
        sections = []
        for scope in key_scopes():
            rows: list[HelpRow] = []
            moves: list[Binding] = []
            for binding in scope.bindings:
                if binding.id:
                    rows.append((self._keys_shown(keys_of(binding, self._config_keymap)), binding.description,
                                 binding.tooltip or binding.description, binding.id))
                else:
                    moves.append(binding)
            if moves:
                rows.append((self._keys_shown([key for binding in moves for key in key_names(binding.key)]), "move",
                             ", ".join(binding.description for binding in moves), ""))
            sections.append((scope.title, rows))
        sections[0][1].extend([
            ("ctrl+p", "palette", "Every action by name: \"requeue #12\", \"jump to #7\", \"pause dispatcher\"", ""),
            ("arrows", "move", "Move the cursor; in the DAG, between issues and layers", ""),
            ("tab, shift+tab", "next panel", "Show and focus the next panel in number order (shift+tab: the previous one)", ""),
        ])
        return sections

    def _keys_shown(self: WaterspiderApp, keys: list[str]) -> str:
        return ", ".join(self.get_key_display(Binding(key, "")) for key in keys)

    def action_problems(self: WaterspiderApp) -> None:
        self.push_screen(ProblemsScreen())

    def action_help(self: WaterspiderApp) -> None:
        self.push_screen(HelpScreen(self.help_sections()))
