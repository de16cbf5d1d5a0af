"""The DAG mode: open work as a layered graph around the selected issue, critical path marked; by milestone on `m`."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import Screen

from waterspider_tui.core.dag import build_graph, layout
from waterspider_tui.core.milestones import MilestoneProgress, milestone_progress
from waterspider_tui.core.models import TaskState
from waterspider_tui.core.priority import PriorityConfig, estimate_minutes
from waterspider_tui.core.state import TaskRecord
from waterspider_tui.ui.messages import IssueSelected
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View
from waterspider_tui.ui.widgets.dag_view import DagModel, DagView
from waterspider_tui.text.milestone_text import integration_words
from waterspider_tui.ui.widgets.key_bar import KeyBar
from waterspider_tui.ui.widgets.milestone_panel import MilestoneKey, MilestonePanel, render_milestones
from waterspider_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

MAX_NODES = 60
"""Above this many open issues the graph shows only the selected issue's ancestors and descendants."""


def dag_model(view: View, focus: str | None, max_nodes: int = MAX_NODES, milestone: MilestoneProgress | None = None) -> DagModel:
    """The layout of open work (queued and running issues) for the DAG widget; with `milestone`, every
    issue of that milestone whatever its state (what is done shows beside what is left)."""
    tasks = view.snapshot.tasks
    if milestone is not None:
        open_tasks = {key: tasks[key] for key in milestone.issues if key in tasks}
    else:
        open_tasks = {key: task for key, task in tasks.items() if task.state in (TaskState.QUEUED, TaskState.RUNNING)}
    # Failed issues that open work waits on are shown too: a blocked issue's cause is in the graph.
    # One that is shown anyway (a milestone's) keeps its own dependencies and so its depth.
    causes = {
        dep for task in open_tasks.values() for dep in task.deps
        if dep in tasks and dep not in open_tasks and tasks[dep].state in (TaskState.FAILED, TaskState.CANCELLED)
    }
    graph = build_graph({**{key: task.deps for key, task in open_tasks.items()}, **{key: () for key in causes}})
    default_minutes = PriorityConfig().default_estimate_min
    durations = {key: estimate_minutes(task.issue) or default_minutes for key, task in open_tasks.items()}
    durations.update({key: 0.0 for key in causes})
    if focus not in open_tasks:
        candidates = [*view.plan.running, *view.plan.ready_keys()]
        focus = next((key for key in candidates if key in open_tasks), None) or next(iter(open_tasks), None)
    dag = layout(graph, durations, focus=focus, max_nodes=max_nodes)
    shown = {key for layer in dag.layers for key in layer} | {key for cycle in dag.cycles for key in cycle}
    failed = f", and {len(causes)} failed issue{'s' if len(causes) != 1 else ''} they wait on" if causes else ""
    if milestone is not None:
        note = f"milestone {milestone.summary()} (m: next milestone)"
    elif len(shown - causes) < len(open_tasks) and focus:
        note = f"{len(shown)} of {len(open_tasks)} open issues: {view.label(focus)}'s dependencies and dependents (select another issue to refocus)"
    else:
        note = f"{len(open_tasks)} open issues in {len(dag.layers)} layers{failed}"
    return DagModel(
        layout=dag,
        labels={key: view.label(key) for key in shown},
        titles={key: _node_title(tasks[key]) for key in shown},
        states={key: view.state_class(key) for key in shown},
        note=note,
    )


def _node_title(task: TaskRecord) -> str:
    """The title, after the error class for a failed issue (the cause of what waits on it)."""
    result = task.result
    if task.state in (TaskState.FAILED, TaskState.CANCELLED):
        why = result.error_class.value if result is not None and result.error_class is not None else task.state.value
        return f"{why}: {task.issue.title}"
    return task.issue.title


class DagScreen(Screen[None]):
    """The dependency graph of open work; arrows move between issues, enter opens the detail."""

    BINDINGS = [
        Binding("escape", "app.show_panel('running')", "back", id="dag_back", tooltip="Back to the queues"),
        Binding("m", "next_milestone", "milestone", id="dag_milestone", tooltip="Show one milestone's issues, then the next, then all open work"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.milestone: MilestoneKey | None = None
        """The milestone whose issues the graph shows; None: all open work."""
        self._milestones: list[MilestoneProgress] = []
        self._key: tuple[object, ...] | None = None
        self._moved_to: str | None = None
        """The node the arrows moved to, drawn at once: the App hears of it by a message, later."""

    @property
    def wapp(self) -> WaterspiderApp:
        return cast("WaterspiderApp", self.app)

    def _select(self, key: str | None) -> None:
        self.app.post_message(IssueSelected(key))  # straight to the App: one hop, not two, while snapshots stream

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield MilestonePanel(id="dag-milestones")
        with ScrollableContainer(id="dag-scroll") as scroll:
            scroll.border_title = "DAG · open work, left to right by depth"
            yield DagView(id="dag")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(DagView).focus()

    def on_resize(self) -> None:
        self.on_screen_resume()

    def on_screen_resume(self) -> None:
        self._moved_to = None
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)

    def render_view(self, view: View, palette: Palette) -> None:
        """Recompute the layout only when the snapshot, the selection or the theme changed."""
        self.query_one(StatusBar).show(view, palette, self.wapp.engine_note)
        selected = self._moved_to or self.wapp.selected_issue
        key = (view.snapshot.seq, id(view.snapshot), selected, id(palette), self.size.width, self.milestone)
        if key == self._key:
            return
        self._key = key
        had_milestones = bool(self._milestones)
        self._milestones = milestone_progress(view.snapshot, cycles=view.plan.cycles, blocked={item.issue for item in view.plan.blocked})
        if had_milestones != bool(self._milestones):
            self.refresh_bindings()
        chosen = next((item for item in self._milestones if (item.repo, item.name) == self.milestone), None)
        rows = [(item, integration_words(view.snapshot.integrations.get((item.repo, item.name)), view.label)) for item in self._milestones]
        self.query_one(MilestonePanel).show(render_milestones(rows, palette, self.milestone, view.label, self.size.width), bool(rows))
        self.query_one("#dag-scroll").border_title = f"DAG · milestone {chosen.name}, every issue" if chosen else "DAG · open work, left to right by depth"
        self.query_one(DagView).show(dag_model(view, selected, milestone=chosen), palette, selected, max(self.size.width - 4, 40))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_milestone":
            return bool(self._milestones)  # hidden from the keys line while no issue has a milestone
        return True

    def action_next_milestone(self) -> None:
        """All open work, then each milestone in turn, then all open work again."""
        keys: list[MilestoneKey | None] = [None, *((item.repo, item.name) for item in self._milestones)]
        position = keys.index(self.milestone) if self.milestone in keys else 0
        self.milestone = keys[(position + 1) % len(keys)]
        self._moved_to = None
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)

    def on_dag_view_node_selected(self, message: DagView.NodeSelected) -> None:
        self._moved_to = message.key
        self._select(message.key)
        if self.wapp.view is not None:
            self.render_view(self.wapp.view, self.wapp.palette)
