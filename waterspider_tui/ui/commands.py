"""Command palette: the same actions as the keys, by name ("requeue #12", "jump to #7")."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from waterspider_tui.core import commands as cmd
from waterspider_tui.core.models import TaskState
from waterspider_tui.ui.worktree_keys import pull_request_of

if TYPE_CHECKING:
    from waterspider_tui.ui.app import WaterspiderApp

PaletteEntry = tuple[str, str, Callable[[], object]]
"""(text to match, help line, callback)."""


def palette_entries(app: WaterspiderApp) -> Iterator[PaletteEntry]:
    """Every command that applies now: dispatcher, panels, and per-issue actions by state."""
    view = app.view
    if view is None:
        return
    snapshot = view.snapshot
    if snapshot.dispatcher_paused:
        yield "resume dispatcher", "Start new sessions again", partial(app.submit, cmd.ResumeDispatcher())
    else:
        yield "pause dispatcher", "Start no new sessions (running ones go on)", partial(app.submit, cmd.PauseDispatcher())
    yield "refresh sources", "Poll the issue sources now", partial(app.submit, cmd.Refresh())
    failed = snapshot.tasks_in(TaskState.FAILED)
    if failed:
        yield "requeue all failed", f"Send the {len(failed)} failed issue{'s' if len(failed) != 1 else ''} back to the queue", app.requeue_failed
        classes = Counter(task.result.error_class.value for task in failed if task.result is not None and task.result.error_class is not None)
        if len(classes) > 1:
            for error_class, count in sorted(classes.items()):
                yield f"requeue failed {error_class}", f"Send the {count} issue{'s' if count != 1 else ''} that failed as {error_class} back to the queue", partial(app.requeue_failed, error_class)
    for host in sorted(snapshot.hosts):
        if host in snapshot.draining:
            yield f"restore host {host}", "Place new sessions on it again", partial(app.submit, cmd.RestoreHost(host=host))
        elif len(snapshot.hosts) > 1 or snapshot.running():
            yield f"drain host {host}", "No new sessions there; the running ones finish", partial(app.submit, cmd.DrainHost(host=host))
    for panel in ("running", "ready", "blocked", "finished", "hosts", "log", "events"):
        yield f"show {panel}", f"Show the {panel} panel", partial(app.action_show_panel, panel)
    yield "show DAG", "The dependency graph of open work", app.action_show_dag
    yield "help", "Every key and what it does", app.action_help
    yield "show results", "Totals, failure classes with advice, the slowest and costliest issues", app.action_open_summary
    if snapshot.warnings or snapshot.rejected:
        yield "show problems", "Rejected issue files and warnings", app.action_problems
    for key, task in snapshot.tasks.items():
        label = view.label(key)
        title = task.issue.title
        yield f"jump to {label}", title, partial(app.jump_to, key)
        yield f"details {label}", title, partial(app.open_detail, key)
        if task.state is TaskState.QUEUED:
            if task.overrides.paused:
                yield f"resume {label}", title, partial(app.submit, cmd.ResumeIssue(issue=key))
            else:
                yield f"pause {label}", title, partial(app.submit, cmd.PauseIssue(issue=key))
            yield f"bump {label} up", title, partial(app.submit, cmd.Bump(issue=key, delta=1))
            yield f"bump {label} down", title, partial(app.submit, cmd.Bump(issue=key, delta=-1))
            pinned = task.overrides.pinned
            yield f"{'unpin' if pinned else 'pin'} {label}", title, partial(app.submit, cmd.Pin(issue=key, pinned=not pinned))
        elif task.state in (TaskState.FAILED, TaskState.CANCELLED):
            yield f"requeue {label}", title, partial(app.submit, cmd.Requeue(issue=key))
        elif task.state is TaskState.RUNNING and not task.cancel_requested:
            yield f"cancel {label}", title, partial(app.confirm_cancel, key)
        if task.session is not None or task.history:
            yield f"log {label}", title, partial(app.open_log, key)
            yield f"diff {label}", title, partial(app.open_diff, key)
            yield f"shell in {label}", title, partial(app.open_shell, key)
        if pull_request_of(task)[1]:
            yield f"open pull request {label}", title, partial(app.open_pull_request, key)


class IssueCommands(Provider):
    """Offers dispatcher, panel and per-issue commands; each hit submits a command or navigates."""

    @property
    def wapp(self) -> WaterspiderApp:
        return cast("WaterspiderApp", self.app)

    async def discover(self) -> Hits:
        for text, help_text, callback in palette_entries(self.wapp):
            if " #" not in text and "/" not in text:
                yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in palette_entries(self.wapp):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)
