"""WaterspiderApp: the control center's modes, keys, themes and lifetime; what its keys do lives
in the mixins it is made of (`app_*` modules, one job each)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Awaitable, Callable

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.theme import Theme
from textual.timer import Timer

from waterspider_tui.core.models import LogEntry
from waterspider_tui.engine.api import EngineHandle
from waterspider_tui.ui.app_commands import EngineCommandKeys
from waterspider_tui.ui.app_ending import STOP_SIGNALS, Ending
from waterspider_tui.ui.app_engine_bridge import SNAPSHOT_INTERVAL_S, EngineBridge
from waterspider_tui.ui.app_log_panel import LogPanelFeed
from waterspider_tui.ui.app_navigation import NavigationKeys
from waterspider_tui.ui.app_selection import STATEFUL_ACTIONS, TASK_ACTIONS, IssueSelection
from waterspider_tui.ui.commands import IssueCommands
from waterspider_tui.ui.gc_pauses import GcPauses
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.screens.control import ControlScreen
from waterspider_tui.ui.screens.dag import DagScreen
from waterspider_tui.ui.themes import BUILTIN_THEME_DIR, DEFAULT_THEME, load_themes
from waterspider_tui.ui.view import View
from waterspider_tui.ui.worktree_keys import WorktreeKeys

TICK_S = 1.0
"""How often elapsed times and countdowns are redrawn without a new snapshot."""
GC_TICK_S = 1.0
"""How often the garbage-collection policy (`gc_pauses`) does what is due."""


class WaterspiderApp(
    EngineBridge, LogPanelFeed, IssueSelection, EngineCommandKeys, NavigationKeys, Ending, WorktreeKeys, App[int],
):
    """The control center: renders engine snapshots and turns keys into engine commands."""

    TITLE = "waterspider"
    CSS_PATH = ["tcss/app.tcss", "tcss/control.tcss", "tcss/dag.tcss", "tcss/modals.tcss", "tcss/log_pager.tcss", "tcss/worktree_screens.tcss"]
    MODES = {"control": ControlScreen, "dag": DagScreen}
    DEFAULT_MODE = "control"
    COMMANDS = App.COMMANDS | {IssueCommands}
    BINDINGS = [
        Binding("p", "toggle_dispatcher", "pause all", id="pause_dispatcher", tooltip="Pause or resume starting new sessions"),
        Binding("space", "toggle_issue", "pause issue", id="pause_issue", tooltip="Pause or resume the selected issue"),
        Binding("plus", "bump(1)", "up", id="bump_up", tooltip="Put the selected issue ahead of all not bumped"),
        Binding("minus", "bump(-1)", "down", id="bump_down", tooltip="Lower the selected issue's priority one step"),
        Binding("t", "pin", "pin", id="pin", tooltip="Pin (or unpin) the selected issue to the front of the queue"),
        Binding("r", "requeue", "requeue", id="requeue", tooltip="Send the selected failed or cancelled issue back to the queue"),
        Binding("x", "cancel_session", "cancel", id="cancel", tooltip="Cancel the selected running session (asks first)"),
        Binding("enter", "detail", "detail", id="detail", tooltip="Score, dependencies, attempts and workspace of the selected issue"),
        Binding("l", "open_log", "log", id="log", tooltip="The selected issue's agent log full screen, any attempt: search, follow, jump to errors"),
        Binding("o", "open_pull_request", "open PR", id="open_pr", tooltip="Open the selected issue's pull request in the browser ($BROWSER; else its address is shown)"),
        Binding("s", "open_shell", "shell", id="shell", tooltip="A shell in the selected issue's worktree (exit returns here); for an SSH host, the ssh command to type"),
        Binding("D", "open_diff", "diff", id="diff", tooltip="Page through the diff of the selected issue's branch against its base"),
        Binding("R", "open_summary", "results", id="results", tooltip="Totals, failure classes with advice, the slowest and costliest issues (as the report)"),
        Binding("d", "show_dag", "DAG", id="dag", tooltip="Show the dependency graph (again: back to the queues)"),
        Binding("slash", "filter", "filter", id="filter", tooltip="Show only issues whose number, title or label match"),
        Binding("g", "refresh", "poll", id="refresh", show=False, tooltip="Poll the issue sources now"),
        Binding("1", "show_panel('running')", "running", id="panel_running", show=False, tooltip="Show the running sessions"),
        Binding("2", "show_panel('ready')", "ready", id="panel_ready", show=False, tooltip="Show the ready queue in dispatch order"),
        Binding("3", "show_panel('blocked')", "blocked", id="panel_blocked", show=False, tooltip="Show blocked issues and why"),
        Binding("4", "show_panel('finished')", "finished", id="panel_finished", show=False, tooltip="Show finished issues"),
        Binding("5", "show_panel('hosts')", "hosts", id="panel_hosts", show=False, tooltip="Show the executor hosts"),
        Binding("6", "show_panel('log')", "log", id="panel_log", show=False, tooltip="Show the selected session's agent log"),
        Binding("7", "show_panel('events')", "events", id="panel_events", show=False, tooltip="Show the engine's event log"),
        Binding("w", "problems", "problems", id="problems", tooltip="Rejected issue files and warnings"),
        Binding("question_mark", "help", "help", id="help", tooltip="Every key and what it does"),
        Binding("q", "quit", "quit", id="quit", tooltip="Quit (asks what to do with running sessions)"),
    ]

    # None of these repaint the app when they change: their watchers (and the screens'
    # `render_view`) update exactly the widgets that show them. A repaint of the whole screen
    # at 200x60 costs tens of milliseconds, and `view` changes several times a second.
    view: reactive[View | None] = reactive(None, init=False, always_update=True, repaint=False)
    """What the screens show: the newest snapshot with its plan and the time."""
    selected_issue: reactive[str | None] = reactive(None, init=False, repaint=False)
    """The issue key actions apply to: the row under the cursor, or the DAG node."""
    log_issue: reactive[str | None] = reactive(None, init=False, repaint=False)
    """The issue whose session log the log panel follows."""
    engine_note: reactive[str] = reactive("", init=False, repaint=False)
    """A problem with the engine itself (its worker failed), shown in the header."""

    def __init__(
        self,
        engine: EngineHandle,
        *,
        run_engine: Callable[[], Awaitable[None]] | None = None,
        theme: str | None = None,
        theme_dir: Path | None = None,
        keymap: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        freeze_old_objects: bool = True,
        leave_running_on_signal: bool = True,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self._run_engine_fn = run_engine
        self._wanted_theme = theme
        self._theme_dir = theme_dir
        self._config_keymap = dict(keymap or {})
        self._control: ControlScreen | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._log_lock = threading.Lock()
        self._pending_logs: list[tuple[str, list[LogEntry]]] = []
        self._log_session: str | None = None
        """The session whose log the log panel shows."""
        self.snapshot_interval_s = SNAPSHOT_INTERVAL_S
        """Least time between two snapshot-driven rebuilds of the view."""
        self._built_at = float("-inf")
        """`time.monotonic()` of the last view rebuild."""
        self._rebuild_timer: Timer | None = None
        """The deferred rebuild for snapshots that came within SNAPSHOT_INTERVAL_S of the last one."""
        self._action_states: tuple[bool | None, ...] = (None,) * len(STATEFUL_ACTIONS)
        self._exit_code = 0
        self._stopping = False
        self._leave_running_on_signal = leave_running_on_signal
        """What a stop signal does with running sessions (`[sessions] on_exit`): no one is there to ask."""
        self._signal_handlers_before: dict[int, object] = {}
        self._gc_pauses = GcPauses()
        self._freeze_old_objects = freeze_old_objects
        """Keep full garbage collections short (`gc_pauses`); off only to measure what it saves."""
        self._theme_errors = self._install_themes()
        self.palette = Palette.from_theme(self.current_theme)
        """Styles of the current theme for the panels' text."""

    def on_mount(self) -> None:
        for message in self._theme_errors:
            self.notify(message, title="Theme", severity="warning", timeout=15)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        if self._config_keymap:
            self.set_keymap(self._config_keymap)
        self._unsubscribe.append(self.engine.subscribe(self._on_engine_snapshot))
        self._unsubscribe.append(self.engine.subscribe_logs(self._on_engine_logs))
        self.refresh_view()
        self.tick_timer = self.set_interval(TICK_S, self.refresh_view)
        """Redraws elapsed times and countdowns every TICK_S without a new snapshot."""
        if self._freeze_old_objects:
            self._gc_pauses.start()
            self.set_interval(GC_TICK_S, self._gc_pauses.tick)
        if self._run_engine_fn is not None:
            self._run_engine()
        self._handle_stop_signals()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._gc_pauses.note_input()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self._restore_signal_handlers()
        self._gc_pauses.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _install_themes(self) -> list[str]:
        """Register the shipped and the operator's themes and pick one; what went wrong, if anything.

        Done before the first render, so the stylesheet is built once with the right colours.
        """
        loaded = load_themes(BUILTIN_THEME_DIR, self._theme_dir)
        for theme in loaded.themes.values():
            self.register_theme(theme)
        problems = [f"Theme file skipped: {error}" for error in loaded.errors]
        wanted = self._wanted_theme or DEFAULT_THEME
        if self.get_theme(wanted) is None:
            problems.append(f"Theme {wanted!r} is not available; using {DEFAULT_THEME}.")
            wanted = DEFAULT_THEME
        self.theme = wanted
        return problems

    def _on_theme_changed(self, theme: Theme) -> None:
        self.palette = Palette.from_theme(theme)
        self.refresh_view()


def run_ui(
    engine: EngineHandle,
    run_engine: Callable[[], Awaitable[None]] | None = None,
    *,
    settings: object | None = None,
    theme: str | None = None,
    theme_dir: Path | None = None,
    keymap: dict[str, str] | None = None,
) -> int:
    """Run the control center until the operator quits; the exit code (1 if the engine failed).

    `settings` may be the config's Settings: its `ui` section gives the theme, the operator's
    theme folder and the keymap; the explicit arguments win over it. Its `[sessions] on_exit`
    says what SIGTERM or SIGHUP does with running sessions (EXIT_INTERRUPTED then).
    """
    ui = getattr(settings, "ui", None)
    sessions = getattr(settings, "sessions", None)
    app = WaterspiderApp(
        engine,
        run_engine=run_engine,
        theme=theme or getattr(ui, "theme", None),
        theme_dir=theme_dir or getattr(ui, "theme_dir", None),
        keymap=keymap if keymap is not None else dict(getattr(ui, "keymap", None) or {}),
        leave_running_on_signal=getattr(sessions, "on_exit", "leave") != "stop",
    )
    result = app.run()
    if app.exit_deadline is not None:
        app.exit_deadline.waiting_for = "the threads the process waits for at exit"
    if isinstance(result, int):
        return result
    return app.return_code or 0


__all__ = ["STOP_SIGNALS", "SNAPSHOT_INTERVAL_S", "TASK_ACTIONS", "TICK_S", "WaterspiderApp", "run_ui"]
