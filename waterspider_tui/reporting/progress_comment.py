"""The Markdown of the one progress comment per session, and of the failure notice that @mentions people."""

from __future__ import annotations

import re
from typing import Sequence

from waterspider_tui.core.models import Outcome, SessionInfo, SessionResult
from waterspider_tui.core.state import TaskRecord
from waterspider_tui.core.advice import advice_for

PHASES = ("analysing", "implementing", "testing", "committing")
"""The phases shown when the agent keeps no todo list (the same as the agents' phase tracker)."""

_HEADINGS = {
    None: ("🔄", "running"),
    Outcome.SUCCEEDED: ("✅", "succeeded"),
    Outcome.FAILED: ("❌", "failed"),
    Outcome.CANCELLED: ("⏹️", "cancelled"),
}
_SUMMARY_CHARS = 800


def session_marker(session_id: str) -> str:
    """Hidden in the comment so a restarted orchestrator finds it again instead of posting twice."""
    return f"<!-- waterspider:session={session_id} -->"


def failure_marker(session_id: str) -> str:
    return f"<!-- waterspider:failure session={session_id} -->"


def quiet(text: str, limit: int = 300) -> str:
    """Agent text made safe to embed: one line, no @mention pings, no HTML comments, bounded."""
    text = re.sub(r"\s+", " ", text or "").strip()
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;").replace("@", "@\u200b")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _checklist(session: SessionInfo, result: SessionResult | None) -> list[str]:
    progress = session.progress
    if progress.todos:
        marks = {"completed": "x"}
        return [
            f"- [{marks.get(status, ' ')}] " + (f"**{quiet(content, 200)}** ⏳" if status == "in_progress" else quiet(content, 200))
            for content, status in progress.todos
        ]
    finished_ok = result is not None and result.outcome is Outcome.SUCCEEDED
    current = progress.phase if progress.phase in PHASES else ""
    lines = []
    for index, phase in enumerate(PHASES):
        done = finished_ok or index < progress.phases_done or (current and index < PHASES.index(current))
        if phase == current and not finished_ok:
            lines.append(f"- [ ] **{phase}**" + (" ⏳" if result is None else ""))
        else:
            lines.append(f"- [{'x' if done else ' '}] {phase}")
    return lines


def _numbers(task: TaskRecord, session: SessionInfo, now: float) -> list[str]:
    result = task.result if task.result is not None and task.state.is_final else None
    if result is not None:
        elapsed = result.duration_s or ((task.finished_at or now) - session.started_at)
        turns, cost = result.turns or session.progress.turns, result.cost_usd or session.progress.cost_usd
    else:
        elapsed, turns, cost = now - session.started_at, session.progress.turns, session.progress.cost_usd
    lines = ["| elapsed | turns | cost |", "| --- | --- | --- |", f"| {format_duration(elapsed)} | {turns} | ${cost:.2f} |"]
    if result is not None and (result.commits or result.files_changed):
        lines.append(f"\n{result.commits} commit(s), {result.files_changed} file(s) changed.")
    return lines


def render_progress_comment(task: TaskRecord, *, now: float) -> str:
    """The whole comment for the task's current (or last) session; the same input gives the same text."""
    session = task.session
    if session is None:
        raise ValueError(f"{task.key} has no session to report")
    result = task.result if task.result is not None and task.state.is_final else None
    icon, word = _HEADINGS[result.outcome if result else None]
    lines = [
        session_marker(session.session_id),
        f"### {icon} waterspider: {word} (attempt {session.attempt})",
        "",
        *_checklist(session, result),
        "",
        *_numbers(task, session, now),
        "",
        _where(session),
    ]
    if session.facts.get("pr_url"):
        lines.append(f"\n**Pull request:** {quiet(str(session.facts['pr_url']), 300)}")
    if result is None and session.progress.last_activity:
        lines.append(f"\n_Last activity: {quiet(session.progress.last_activity, 200)}_")
    if result is not None:
        lines += ["", *_outcome(result, _advice(task, session.session_id, result))]
    return "\n".join(lines) + "\n"


def _advice(task: TaskRecord, session_id: str, result: SessionResult) -> str:
    """The advice read with the decision taken for this very attempt (retried, host-wide, final)."""
    attempt = next((item for item in reversed(task.history) if item.session_id == session_id), None)
    return attempt.advice() if attempt is not None else advice_for(result.error_class)


def _where(session: SessionInfo) -> str:
    """Branch, worktree, agent and host; a session known only from its history entry has fewer."""
    parts = [f"{label} `{value}`" for label, value in (("Branch", session.branch), ("worktree", session.worktree)) if value]
    if session.agent:
        parts.append(f"agent `{session.agent}`" + (f" on `{session.host}`" if session.host else ""))
    elif session.host:
        parts.append(f"on `{session.host}`")
    return " · ".join(parts)


def _outcome(result: SessionResult, advice: str) -> list[str]:
    if result.outcome is Outcome.SUCCEEDED:
        return [f"**Outcome:** succeeded. {quiet(result.summary, _SUMMARY_CHARS)}".rstrip()]
    if result.outcome is Outcome.CANCELLED:
        return ["**Outcome:** cancelled by the operator." + (f" {quiet(result.error)}" if result.error else "")]
    error_class = result.error_class.value if result.error_class else "unknown"
    lines = [f"**Outcome:** failed (`{error_class}`)" + (f": {quiet(result.error)}" if result.error else ".")]
    if result.summary:
        lines.append(f"\n{quiet(result.summary, _SUMMARY_CHARS)}")
    lines.append(f"\n**What to do next:** {advice}")
    return lines


def failure_mentions(task: TaskRecord, operators: Sequence[str]) -> tuple[str, ...]:
    """Who to @mention on failure: the configured operators, else the issue's assignees."""
    logins = [login.lstrip("@") for login in operators if login.strip("@ ")] or list(task.issue.assignees)
    return tuple(dict.fromkeys(logins))


def render_failure_notice(task: TaskRecord, mentions: Sequence[str]) -> str:
    """A short separate comment: GitHub notifies @mentions in new comments, not in edits."""
    session = task.session
    result = task.result
    if session is None or result is None:
        raise ValueError(f"{task.key} has no finished session to report")
    error_class = result.error_class.value if result.error_class else "unknown"
    who = " ".join(f"@{login}" for login in mentions)
    return "\n".join([
        failure_marker(session.session_id),
        f"{who} waterspider could not finish this issue (attempt {session.attempt}): `{error_class}`"
        + (f": {quiet(result.error)}" if result.error else "."),
        "",
        f"**What to do next:** {advice_for(result.error_class)}",
        "",
        (f"Branch `{session.branch}` keeps any committed work; the" if session.branch else "The")
        + " progress comment above has the details.",
    ]) + "\n"


class ProgressCommentRenderer:
    """The renderer the GitHub sink is given (the sink lives in adapters and cannot import this layer)."""

    session_marker = staticmethod(session_marker)
    failure_marker = staticmethod(failure_marker)
    failure_mentions = staticmethod(failure_mentions)

    def progress(self, task: TaskRecord, now: float) -> str:
        return render_progress_comment(task, now=now)

    def failure_notice(self, task: TaskRecord, mentions: Sequence[str]) -> str:
        return render_failure_notice(task, mentions)
