"""Table rows for the four queues, built from a View: (issue key, styled cells) in display order."""

from __future__ import annotations

from typing import Callable

from rich.text import Text

from waterspider_tui.core.models import TaskState
from waterspider_tui.core.state import TaskRecord
from waterspider_tui.ui import format as fmt
from waterspider_tui.ui.palette import Palette
from waterspider_tui.ui.view import View, matches, natural

Row = tuple[str, tuple[Text, ...]]
Filter = Callable[[TaskRecord], bool]

FINISHED_SHOWN = 300
"""The finished table keeps the latest this many; the panel title gives the full count."""
IDLE_AFTER_S = 300
"""A running session silent this long gets its last activity marked idle."""

RUNNING_COLUMNS = (("Issue", "issue"), ("Title", "title"), ("Host", "host"), ("Phase", "phase"), ("Elapsed", "elapsed"), ("Cost", "cost"), ("Turns", "turns"), ("Last activity", "activity"))
READY_COLUMNS = (("#", "rank"), ("Issue", "issue"), ("Title", "title"), ("P", "level"), ("Score", "score"), ("", "marks"))
BLOCKED_COLUMNS = (("Issue", "issue"), ("Title", "title"), ("Why", "reason"))
FINISHED_COLUMNS = (("", "mark"), ("Issue", "issue"), ("Title", "title"), ("Result", "result"), ("Took", "took"), ("Cost", "cost"), ("PR", "pr"))

TITLE_WIDTH = 26
FINISHED_TITLE_WIDTH = 20
TITLE_WIDTHS = {
    "narrow": {"running": 20, "ready": 24, "blocked": 20, "finished": 20},
    "medium": {"running": 18, "ready": 14, "blocked": 18, "finished": 14},
    "wide": {"running": 24, "ready": 26, "blocked": 26, "finished": 20},
}
"""Title column widths per layout: one panel at a time, every panel on ~120 columns, on ~200."""


class RowCache:
    """The cells built for one table last time, reused while the inputs that made them are equal.

    Why: building styled cells for hundreds of rows on every snapshot is the slowest part of
    a render; with the same cell objects the table skips the row without comparing it.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[object, tuple[Text, ...]]] = {}

    def get(self, key: str, inputs: object) -> tuple[Text, ...] | None:
        cached = self._rows.get(key)
        return cached[1] if cached is not None and cached[0] == inputs else None

    def put(self, key: str, inputs: object, cells: tuple[Text, ...]) -> tuple[Text, ...]:
        self._rows[key] = (inputs, cells)
        return cells

    def retain(self, keys: set[str]) -> None:
        """Forget rows no longer shown."""
        if len(self._rows) > len(keys):
            self._rows = {key: value for key, value in self._rows.items() if key in keys}


def _t(text: str, style: object = None) -> Text:
    return Text(text, style=style or "", no_wrap=True, overflow="ellipsis", end="")  # type: ignore[arg-type]


def _title(task: TaskRecord, width: int = TITLE_WIDTH) -> Text:
    return _t(fmt.truncate(task.issue.title, width))


def _cached(cache: RowCache | None, key: str, inputs: object, build: Callable[[], tuple[Text, ...]]) -> tuple[Text, ...]:
    if cache is None:
        return build()
    cells = cache.get(key, inputs)
    return cells if cells is not None else cache.put(key, inputs, build())


def running_rows(view: View, palette: Palette, needle: str = "", title_width: int = 24, cache: RowCache | None = None) -> list[Row]:
    """Running sessions in issue order: where, phase, elapsed, turns, cost, last activity."""
    rows: list[Row] = []
    for key in sorted(view.plan.running, key=natural):
        task = view.snapshot.tasks.get(key)
        if task is None or task.session is None or not matches(task, needle):
            continue
        session = task.session
        progress = session.progress
        elapsed = fmt.duration(view.now - session.started_at)
        idle = bool(progress.last_output_at) and view.now - progress.last_output_at > IDLE_AFTER_S
        idle_for = fmt.duration(view.now - progress.last_output_at) if idle else ""
        label = view.label(key)

        def build() -> tuple[Text, ...]:
            if task.cancel_requested:
                phase = _t("cancelling…", palette.warning)
            else:
                phase = _t("▶ " + fmt.truncate(fmt.phase(progress), 24), palette.running)
            activity = fmt.truncate(progress.last_activity, 40)
            if idle:
                activity = f"idle {idle_for} · {activity}"
            return (
                _t(label, palette.running), _title(task, title_width),
                _t(session.host or session.executor), phase, _t(elapsed), _t(fmt.money(progress.cost_usd)),
                _t(str(progress.turns)), _t(activity, palette.warning if idle else palette.muted),
            )

        rows.append((key, _cached(cache, key, (task, elapsed, idle_for, label, title_width, palette), build)))
    if cache is not None:
        cache.retain({key for key, _ in rows})
    return rows


def ready_rows(view: View, palette: Palette, needle: str = "", title_width: int = TITLE_WIDTH, cache: RowCache | None = None) -> list[Row]:
    """Ready issues in dispatch order, with score and critical-path / P0 first / pinned / bump marks."""
    rows: list[Row] = []
    for rank, item in enumerate(view.plan.ready, 1):
        task = view.snapshot.tasks.get(item.issue)
        if task is None or not matches(task, needle):
            continue
        score = item.score
        next_up = item.issue in view.plan.dispatch
        label = view.label(item.issue)

        def build() -> tuple[Text, ...]:
            marks = Text(no_wrap=True, end="")
            if score.critical:
                marks.append("critical path ", palette.critical)
            if score.first:
                marks.append(score.first.partition(":")[0] + " ", palette.accent)
            if score.pinned:
                marks.append("pinned ", palette.accent)
            if score.bump:
                marks.append(f"bump {score.bump:+d} ", palette.muted)
            marks.rstrip()
            return (
                _t(str(rank), palette.muted), _t(label, palette.bold if next_up else palette.ready),
                _title(task, title_width), _t(score.level or "–", palette.muted), _t(f"{score.total:.2f}"), marks,
            )

        rows.append((item.issue, _cached(cache, item.issue, (task, rank, score, next_up, label, title_width, palette), build)))
    if cache is not None:
        cache.retain({key for key, _ in rows})
    return rows


def blocked_reason(view: View, palette: Palette, key: str) -> Text:
    blocked = view.blocked_by_key[key]
    task = view.snapshot.tasks[key]
    if blocked.reason in ("dependency", "failed_dependency"):
        text = Text("waits on ", no_wrap=True, end="")
        for index, dep in enumerate(blocked.waiting_on):
            if index:
                text.append(", ")
            state = view.state_text(dep)
            style = palette.failed if state in ("failed", "cancelled") else None
            text.append(f"{view.label(dep)} ({state})", style or "")
        if blocked.reason == "failed_dependency":
            text.stylize(palette.failed)
        return text
    if blocked.reason == "cycle":
        chain = blocked.cycle + blocked.cycle[:1]
        return _t("cycle " + " → ".join(view.label(member) for member in chain), palette.failed)
    if blocked.reason == "paused":
        return _t("paused by operator", palette.muted)
    if blocked.reason == "held":
        return _t(f"held: {blocked.detail}", palette.muted)
    if blocked.reason == "retry_wait" and task.not_before:
        after = task.result.error_class.value if task.result and task.result.error_class else "failure"
        return _t(f"retry in {fmt.duration(task.not_before - view.now)} (after {after})", palette.warning)
    return _t(blocked.detail, palette.blocked)


def override_marks(task: TaskRecord) -> str:
    """`pinned`, `bump +1`: what the operator asked for an issue, so it shows while it waits too."""
    marks = []
    if task.overrides.pinned:
        marks.append("pinned")
    if task.overrides.bump:
        marks.append(f"bump {task.overrides.bump:+d}")
    return " ".join(marks)


def blocked_rows(view: View, palette: Palette, needle: str = "", title_width: int = TITLE_WIDTH, cache: RowCache | None = None) -> list[Row]:
    """Blocked issues in issue order, each with why: which dependency, cycle, pause, hold or wait."""
    rows: list[Row] = []
    for item in view.plan.blocked:
        task = view.snapshot.tasks.get(item.issue)
        if task is None or not matches(task, needle):
            continue
        style = palette.failed if item.reason in ("cycle", "failed_dependency") else palette.blocked
        label = view.label(item.issue)
        dep_states = tuple(view.state_text(dep) for dep in item.waiting_on)
        wait = fmt.duration(task.not_before - view.now) if item.reason == "retry_wait" and task.not_before else ""

        def build() -> tuple[Text, ...]:
            why = Text(no_wrap=True, overflow="ellipsis", end="")
            marks = override_marks(task)
            if marks:
                why.append(marks + " · ", palette.accent)
            why.append_text(blocked_reason(view, palette, item.issue))
            return (_t(label, style), _title(task, title_width), why)

        inputs = (task, item, dep_states, wait, label, title_width, palette)
        rows.append((item.issue, _cached(cache, item.issue, inputs, build)))
    if cache is not None:
        cache.retain({key for key, _ in rows})
    return rows


_FINAL = (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED, TaskState.GONE)


def finished_tasks(view: View) -> list[TaskRecord]:
    """Finished issues, latest first."""
    tasks = view.snapshot.tasks_in(*_FINAL)
    tasks.sort(key=lambda task: (-(task.finished_at or 0.0), natural(task.key)))
    return tasks


def finished_rows(view: View, palette: Palette, needle: str = "", title_width: int = FINISHED_TITLE_WIDTH, cache: RowCache | None = None) -> list[Row]:
    """The latest finished issues: outcome mark, result or error class, time, cost and PR."""
    rows: list[Row] = []
    for task in finished_tasks(view):
        if len(rows) >= FINISHED_SHOWN:
            break
        if not matches(task, needle):
            continue
        label = view.label(task.key)
        rows.append((task.key, _cached(cache, task.key, (task, label, title_width, palette), lambda: _finished_cells(task, label, palette, title_width))))
    if cache is not None:
        cache.retain({key for key, _ in rows})
    return rows


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _finished_cells(task: TaskRecord, label: str, palette: Palette, title_width: int) -> tuple[Text, ...]:
    result = task.result
    spent = sum(attempt.cost_usd for attempt in task.history)
    took = sum(attempt.duration_s for attempt in task.history)
    pr_text, _ = fmt.pr_link(_pr_url(task), result.summary if result else "")
    if task.state is TaskState.SUCCEEDED:
        mark, style = "✔", palette.succeeded
        what = f"{_count(result.commits, 'commit')}, {_count(result.files_changed, 'file')}" if result and result.commits else "succeeded"
    elif task.state is TaskState.FAILED:
        mark, style = "✘", palette.failed
        error = result.error_class.value if result and result.error_class else "failed"
        tries = len(task.history)
        what = f"{error}, {tries} tries" if tries > 1 else error
    elif task.state is TaskState.CANCELLED:
        mark, style, what = "⊘", palette.muted, "cancelled"
    else:
        mark, style, what = "–", palette.muted, "closed upstream"
    return (
        _t(mark, style), _t(label, style), _title(task, title_width),
        _t(what, style if task.state is TaskState.FAILED else None),
        _t(fmt.duration(took) if task.history else "–"), _t(fmt.money(spent)), _t(pr_text, palette.accent),
    )


def _pr_url(task: TaskRecord) -> str:
    """The pull request the steps after the agent opened (before any URL the agent printed)."""
    return str(task.session.facts.get("pr_url", "")) if task.session is not None else ""
