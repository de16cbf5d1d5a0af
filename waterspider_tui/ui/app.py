"""WaterspiderApp: modes, keys, the engine worker, and snapshots and logs routed to the screens."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path
from typing import Awaitable, Callable

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from waterspider_tui.core.models import LogEntry
from waterspider_tui.core import commands as cmd
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import TaskRecord
from waterspider_tui.engine.api import EngineHandle
from waterspider_tui.exit_codes import EXIT_INTERRUPTED
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.commands import IssueCommands
from waterspider_tui.ui.gc_pauses import GcPauses
from waterspider_tui.ui.messages import IssueSelected, LogsPending, SnapshotReady
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.screens.control import ControlScreen
from waterspider_tui.ui.screens.dag import DagScreen
from waterspider_tui.ui.screens.log_pager import LogScreen
from waterspider_tui.ui.screens.summary import SummaryScreen
from waterspider_tui.ui.key_map import key_names, key_scopes, keys_of
from waterspider_tui.ui.screens.modals import ConfirmScreen, HelpRow, HelpScreen, ProblemsScreen, QuitScreen, TaskDetailScreen
from waterspider_tui.ui.themes import BUILTIN_THEME_DIR, DEFAULT_THEME, load_themes
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.hosts import HostsPanel
from waterspider_tui.ui.worktree_keys import WORKTREE_ACTIONS, WorktreeKeys, worktree_action_applies

TICK_S = 1.0
"""How often elapsed times and countdowns are redrawn without a new snapshot."""
GC_TICK_S = 1.0
"""How often the garbage-collection policy (`gc_pauses`) does what is due."""
SNAPSHOT_INTERVAL_S = 0.25
"""Snapshots rebuild the view at most this often (the engine can publish hundreds a second).

An operator's command and the 1 s tick rebuild at once, so a key's effect never waits for it.
"""

_TASK_ACTIONS = ("toggle_issue", "bump", "pin", "requeue", "cancel_session", "detail", "open_log", *WORKTREE_ACTIONS)
"""Actions that apply to the selected issue; `check_action` greys them out when they do not."""
_STATEFUL_ACTIONS = (*_TASK_ACTIONS, "problems")
"""Actions whose availability changes with the state; the key bar is refreshed when it does."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the control center as quitting does: `kill`, and the terminal going away
(tmux closing the pane). Left to their default, they end the process at once, with the terminal
still in the alternate screen and the cursor hidden."""


class WaterspiderApp(WorktreeKeys, App[int]):
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
        self._action_states: tuple[bool | None, ...] = (None,) * len(_STATEFUL_ACTIONS)
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

    # Start and stop

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

    def _handle_stop_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (an app run in a test's thread)
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            self._signal_handlers_before[signum] = signal.getsignal(signum)
            loop.add_signal_handler(signum, self._stop_signalled)

    def _restore_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum, handler in self._signal_handlers_before.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._signal_handlers_before.clear()

    def _stop_signalled(self) -> None:
        if self._stopping:
            return  # a second signal while the engine stops: the first one's exit is on its way
        self._exit_code = EXIT_INTERRUPTED
        self._stop_and_exit(leave_running=self._leave_running_on_signal)

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

    @work(group="engine", exit_on_error=False)
    async def _run_engine(self) -> None:
        assert self._run_engine_fn is not None
        await self._run_engine_fn()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
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

    # Snapshots and logs

    def _on_engine_snapshot(self, snapshot: object) -> None:
        """Engine callback (any thread): hand the snapshot to the UI loop, coalescing bursts."""
        self.post_message(SnapshotReady(snapshot))  # type: ignore[arg-type]

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
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

    def _deferred_refresh(self) -> None:
        self._rebuild_timer = None
        if not self._shows_newest_snapshot():
            self.refresh_view()

    def _shows_newest_snapshot(self) -> bool:
        """The view already shows the engine's newest snapshot (a command's rebuild got there first)."""
        return self.view is not None and self.view.snapshot is self.engine.snapshot

    def refresh_view(self) -> None:
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

    def watch_view(self, view: View | None) -> None:
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

    def _session_of(self, key: str | None) -> str | None:
        task = self.view.task(key) if self.view and key else None
        return task.session.session_id if task is not None and task.session is not None else None

    def _on_engine_logs(self, issue_key: str, entries: list[LogEntry]) -> None:
        """Engine callback (any thread): keep only the followed session's lines, post one message."""
        if issue_key != self.log_issue or not entries:
            return
        with self._log_lock:
            self._pending_logs.append((issue_key, entries))
        self.post_message(LogsPending())

    def on_logs_pending(self, message: LogsPending) -> None:
        with self._log_lock:
            pending, self._pending_logs = self._pending_logs, []
        followed = self.log_issue
        entries = [entry for key, batch in pending if key == followed for entry in batch]
        if entries and self._control is not None:
            self._control.append_log(fmt.log_lines(entries))

    def attach_control(self, control: ControlScreen) -> None:
        """The control screen is mounted: it holds the log panel."""
        self._control = control
        self._show_log()

    def watch_log_issue(self) -> None:
        with self._log_lock:
            self._pending_logs.clear()
        self._show_log()

    def _show_log(self) -> None:
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
    async def _load_log(self, key: str, title: str) -> None:
        """Read an ended (or just reattached) session's log from wherever it ran."""
        try:
            entries = await self.engine.load_session_log(key)
        except Exception as error:  # a host that cannot be read is a line in the panel, not a crash
            entries = [LogEntry("error", f"the log cannot be read: {type(error).__name__}: {error}")]
        if self.log_issue != key or self._control is None:
            return
        lines = fmt.log_lines(entries)
        self._control.show_log(key, title, lines, note="" if lines else "This session wrote nothing to its log.")

    # Selection

    def on_issue_selected(self, message: IssueSelected) -> None:
        self.select_issue(message.key)

    def on_hosts_panel_drain_requested(self, message: HostsPanel.DrainRequested) -> None:
        self.submit(cmd.DrainHost(host=message.host) if message.drain else cmd.RestoreHost(host=message.host))

    def select_issue(self, key: str | None) -> None:
        """The operator moved to an issue: actions now apply to it, the log follows its session."""
        self.selected_issue = key
        task = self.view.task(key) if self.view else None
        if task is not None and (task.session is not None or task.history):
            self.log_issue = key

    def watch_selected_issue(self) -> None:
        self._refresh_action_states()

    def _refresh_action_states(self) -> None:
        """Refresh the footer only when an issue action became (in)applicable.

        Why not on every change: the footer rebuilds itself on each refresh, and the selection
        moves with every cursor step.
        """
        states = tuple(self.check_action(action, ()) for action in _STATEFUL_ACTIONS)
        if states != self._action_states:
            self._action_states = states
            self.refresh_bindings()

    def current_issue(self) -> str | None:
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

    def _selected_task(self) -> TaskRecord | None:
        return self.view.task(self.current_issue()) if self.view else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out issue actions that do not apply to the selected issue's state."""
        if action == "problems":
            snapshot = self.view.snapshot if self.view else None
            return True if snapshot is not None and (snapshot.warnings or snapshot.rejected) else None
        if action not in _TASK_ACTIONS:
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

    # Commands

    def submit(self, command: cmd.Command) -> Worker[None]:
        """Send a command to the engine in the background; its answer becomes a notification."""
        return self.run_worker(self._submit(command), group="commands", exit_on_error=False)

    async def _submit(self, command: cmd.Command) -> None:
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

    def requeue_failed(self, error_class: str | None = None) -> Worker[None]:
        """Requeue every failed issue (of one error class, if given), one command each; one notification."""
        snapshot = self.engine.snapshot
        keys = [
            task.key for task in snapshot.tasks_in(TaskState.FAILED)
            if error_class is None or (task.result is not None and task.result.error_class is not None and task.result.error_class.value == error_class)
        ]
        return self.run_worker(self._submit_all([cmd.Requeue(issue=key) for key in keys]), group="commands", exit_on_error=False)

    async def _submit_all(self, commands: list[cmd.Command]) -> None:
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

    def action_toggle_dispatcher(self) -> None:
        paused = self.view is not None and self.view.snapshot.dispatcher_paused
        self.submit(cmd.ResumeDispatcher() if paused else cmd.PauseDispatcher())

    def action_toggle_issue(self) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.ResumeIssue(issue=task.key) if task.overrides.paused else cmd.PauseIssue(issue=task.key))

    def action_bump(self, delta: int) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.Bump(issue=task.key, delta=delta))

    def action_pin(self) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.Pin(issue=task.key, pinned=not task.overrides.pinned))

    def action_requeue(self) -> None:
        task = self._selected_task()
        if task is not None:
            self.submit(cmd.Requeue(issue=task.key))

    def action_cancel_session(self) -> None:
        task = self._selected_task()
        if task is not None:
            self.confirm_cancel(task.key)

    def confirm_cancel(self, key: str) -> None:
        """Ask before cancelling a running session; submit Cancel only on yes."""
        task = self.view.task(key) if self.view else None
        title = f" {fmt.truncate(task.issue.title, 50)}" if task else ""
        label = self.view.label(key) if self.view else key
        question = f"Cancel the running session of {label}{title}?\nIts worktree is kept; requeue it later with r."

        def answered(yes: bool | None) -> None:
            if yes:
                self.submit(cmd.Cancel(issue=key))

        self.push_screen(ConfirmScreen(question, "Cancel session", "Keep running"), answered)

    def action_refresh(self) -> None:
        self.submit(cmd.Refresh())

    # Navigation

    def action_detail(self) -> None:
        key = self.current_issue()
        if key:
            self.open_detail(key)

    def open_detail(self, key: str) -> None:
        self.push_screen(TaskDetailScreen(key))

    def action_open_log(self) -> None:
        key = self.current_issue()
        if key:
            self.open_log(key)

    def open_log(self, key: str, attempt: int | None = None) -> None:
        """The issue's session log full screen (the last attempt unless one is named)."""
        task = self.view.task(key) if self.view else None
        if task is None or (task.session is None and not task.history):
            self.notify(f"{self.view.label(key) if self.view else key} has not run yet: there is no log.", severity="warning")
            return
        self.push_screen(LogScreen(key, attempt))

    def _to_control(self) -> ControlScreen | None:
        """Bring the queues to the front: from the DAG, and from any screen opened over them
        (results, a pager, a modal), so a panel key or the filter acts where it can be seen."""
        if self.current_mode != "control":
            self.switch_mode("control")
        while self._control is not None and self.screen is not self._control and len(self.screen_stack) > 1:
            self.pop_screen()
        return self._control

    def action_show_panel(self, panel_id: str) -> None:
        control = self._to_control()
        if control is not None:
            control.show_panel(panel_id)

    def action_filter(self) -> None:
        control = self._to_control()
        if control is not None:
            control.open_filter()

    def action_show_dag(self) -> None:
        if self.current_mode == "dag":
            self.switch_mode("control")
        else:
            if self._control is not None and self._control.selected_in_table():
                self.selected_issue = self._control.selected_in_table()
            self.switch_mode("dag")

    def jump_to(self, key: str) -> None:
        """Show the panel that lists an issue, with the cursor on it."""
        control = self._to_control()
        if control is None or not control.reveal(key):
            self.notify(f"{key} is not listed in any queue.", severity="warning")

    def help_rows(self) -> list[HelpRow]:
        """Every key of the control center itself (the first section of the help)."""
        return self.help_sections()[0][1]

    def help_sections(self) -> list[tuple[str, list[HelpRow]]]:
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

    def _keys_shown(self, keys: list[str]) -> str:
        return ", ".join(self.get_key_display(Binding(key, "")) for key in keys)

    def action_problems(self) -> None:
        self.push_screen(ProblemsScreen())

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    # Quit

    async def action_help_quit(self) -> None:
        """Ctrl-C asks the same question as q (Textual's default only says which key quits)."""
        if not isinstance(self.screen, QuitScreen):
            await self.action_quit()

    async def action_quit(self) -> None:
        """Quit; with sessions running, ask whether to leave them running or stop them first."""
        running = len(self.view.plan.running) if self.view else 0
        if running:
            self.push_screen(QuitScreen(running), self._quit_chosen)
        else:
            self._stop_and_exit(leave_running=True)

    def _quit_chosen(self, choice: str | None) -> None:
        if choice in ("leave", "stop"):
            self._stop_and_exit(leave_running=choice == "leave")

    @work(group="shutdown", exit_on_error=False)
    async def _stop_and_exit(self, leave_running: bool) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.notify("Leaving sessions running…" if leave_running else "Stopping sessions…")
        try:
            await self.engine.stop(leave_running=leave_running)
        except Exception as error:  # still quit, but say so and fail the exit code
            self.exit(1, return_code=1, message=f"The engine did not stop cleanly: {type(error).__name__}: {error}")
            return
        self.exit(self._exit_code, return_code=self._exit_code)


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
    if isinstance(result, int):
        return result
    return app.return_code or 0


__all__ = ["WaterspiderApp", "run_ui"]
