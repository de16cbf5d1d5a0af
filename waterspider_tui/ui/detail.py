"""The detail of one issue: why it is where it is, what it waits on, its attempts, its workspace."""

from __future__ import annotations

import os

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from waterspider_tui.core.models import TaskState
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.rows import blocked_reason
from waterspider_tui.ui.view import View, needed_by


def _heading(text: str, palette: Palette) -> Text:
    return Text(f"\n{text}", style=palette.bold + palette.ready)


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    return table


def _deps_table(view: View, keys: list[str], palette: Palette) -> RenderableType:
    if not keys:
        return Text("  none", style=palette.muted)
    table = _grid()
    for key in keys:
        task = view.task(key)
        title = fmt.truncate(task.issue.title, 50) if task else ""
        state = view.state_text(key)
        style = {"succeeded": palette.succeeded, "running": palette.running, "failed": palette.failed,
                 "cancelled": palette.muted, "ready": palette.ready}.get(state, palette.blocked)
        table.add_row(Text(f"  {view.label(key)}"), Text.assemble((f"{state:<12}", style), title))
    return table


def _worktree(path: str, executor: str, palette: Palette) -> Text:
    """The worktree's path, marked when it is gone from this machine (removed by `clean`, or pruned).

    Only a local session's absolute path can be checked here; another host's is shown as recorded.
    """
    if executor == "local" and os.path.isabs(path) and not os.path.isdir(path):
        return Text.assemble((path, palette.muted), ("  no longer there (removed); the branch keeps the commits", palette.warning))
    return Text(path)


def detail_renderable(view: View, key: str, palette: Palette, waits_for_host: str = "") -> RenderableType:
    """Everything about one issue, for the detail modal.

    `waits_for_host`: why no host can take it now (the engine's `waits_for_host`), said instead of
    its place in the dispatch order: the plan would "start next" an issue no host can take.
    """
    task = view.task(key)
    if task is None:
        return Text(f"{key} is no longer known.", style=palette.muted)
    issue = task.issue
    parts: list[RenderableType] = []
    header = Text.assemble((f"{view.label(key)} ", palette.bold), issue.title)
    parts.append(header)
    facts = _grid()
    state = view.state_text(key)
    facts.add_row("state", Text(state, style=palette.running if state == "running" else palette.text))
    if issue.labels:
        facts.add_row("labels", ", ".join(issue.labels))
    if issue.milestone:
        facts.add_row("milestone", issue.milestone)
    if issue.url:
        facts.add_row("issue", issue.url)
    if issue.source_path and not issue.url:
        facts.add_row("source", issue.source_path)
    parts.append(facts)

    ranked = view.ready_by_key.get(key)
    if ranked is not None:
        rank, item = ranked
        score = item.score
        dispatch = waits_for_host or ("starts next" if key in view.plan.dispatch else f"#{rank} in dispatch order")
        parts.append(_heading(f"Score {score.total:.2f} · {dispatch}", palette))
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column()
        for part in score.parts:
            table.add_row(f"  {part.name}", f"{part.weight:g} × {part.value:.2f} = {part.contribution:.2f}", Text(part.explanation, style=palette.muted))
        extras = score.reasons()
        parts.append(table)
        if extras:
            parts.append(Text("  " + ", ".join(extras), style=palette.critical))
    elif key in view.blocked_by_key:
        parts.append(_heading("Blocked", palette))
        parts.append(Text.assemble("  ", blocked_reason(view, palette, key)))

    if task.session is not None and task.state is TaskState.RUNNING:
        session = task.session
        progress = session.progress
        parts.append(_heading(f"Running · attempt {session.attempt}", palette))
        live = _grid()
        live.add_row("  phase", fmt.phase(progress))
        live.add_row("  elapsed", fmt.duration(view.now - session.started_at))
        live.add_row("  turns · cost", f"{progress.turns} · {fmt.money(progress.cost_usd)}")
        live.add_row("  last activity", progress.last_activity or "–")
        for content, status in progress.todos:
            mark = {"completed": "✔", "in_progress": "▶"}.get(status, "·")
            live.add_row("", f"{mark} {content}")
        parts.append(live)

    parts.append(_heading("Waits on", palette))
    parts.append(_deps_table(view, list(task.deps), palette))
    parts.append(_heading("Needed by", palette))
    parts.append(_deps_table(view, needed_by(view.snapshot, key), palette))

    parts.append(_heading(f"Attempts ({len(task.history)})", palette))
    if task.history:
        for attempt in task.history:
            style = palette.succeeded if attempt.outcome.value == "succeeded" else palette.failed
            line = Text(f"  {attempt.attempt}  ")
            line.append(attempt.outcome.value, style)
            if attempt.error_class is not None:
                line.append(f"  {attempt.error_class.value}", style)
            line.append(f"  {fmt.duration(attempt.duration_s)}  {fmt.money(attempt.cost_usd)}  {attempt.host}")
            parts.append(line)
            if attempt.error:
                parts.append(Text(f"     {fmt.truncate(attempt.error, 200)}", style=palette.muted))
            if attempt is task.history[-1] and attempt.error_class is not None and task.state is not TaskState.RUNNING:
                advice = Table.grid(padding=(0, 1))
                advice.add_column(no_wrap=True)
                advice.add_column()
                advice.add_row(Text("     next:", style=palette.accent), Text(attempt.advice(), style=palette.accent))
                parts.append(advice)
            parts.append(Text(f"     log {attempt.log_path}  (l shows it)", style=palette.muted))
    else:
        parts.append(Text("  none yet", style=palette.muted))

    session = task.session
    if session is not None:
        parts.append(_heading("Workspace", palette))
        workspace = _grid()
        workspace.add_row("  worktree", _worktree(session.worktree, session.executor, palette))
        workspace.add_row("  branch", session.branch)
        workspace.add_row("  host", f"{session.host or session.executor} ({session.executor}, {session.agent})")
        if session.external_url or session.external_id:
            workspace.add_row("  run", Text(session.external_url or session.external_id, style=palette.accent))
        if session.placement:
            workspace.add_row("  placed", Text(session.placement, style=palette.muted))
        workspace.add_row("  log", session.log_path)
        pr_text, pr_url = fmt.pr_link(str(session.facts.get("pr_url", "")), task.result.summary if task.result else "")
        if pr_url:
            workspace.add_row("  pull request", Text(f"{pr_text}  {pr_url}", style=palette.accent))
        parts.append(workspace)
    if task.result is not None and task.result.summary:
        parts.append(_heading("Summary", palette))
        parts.append(Text(f"  {fmt.truncate(task.result.summary, 400)}"))
    return Group(*parts)
