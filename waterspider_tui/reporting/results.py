"""The result aggregator: every finished session of every executor, from the store's events, and its figures.

Pure: it folds events (as the store gives them back) into one row per finished session, then
into totals, per-label, per-milestone and per-host figures, the slowest and most expensive
issues, failure classes with their advice and cost over time. `waterspider report` renders
them as Markdown, JSON or HTML; the figures are sums over the rows, so they always match
the events they come from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable

from waterspider_tui.core import events as ev
from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.models import ErrorClass, Issue, SessionInfo

TOP_N = 5
DAY_S = 86_400.0


@dataclass(frozen=True)
class SessionRow:
    """One finished session: what the aggregator knows about it."""

    issue: str
    title: str
    labels: tuple[str, ...]
    milestone: str
    session_id: str
    attempt: int
    outcome: str
    """`succeeded`, `failed` or `cancelled`."""
    error_class: str
    error: str
    will_retry: bool
    started_at: float
    finished_at: float
    duration_s: float
    turns: int
    cost_usd: float
    host: str
    executor: str
    agent: str
    commits: int
    files_changed: int
    gate: str = ""
    """`passed`, `failed`, `off`, or empty when no gate ran."""
    pr_url: str = ""


@dataclass(frozen=True)
class IssueResult:
    """An issue as its latest session left it, with its sessions' sums."""

    issue: str
    title: str
    labels: tuple[str, ...]
    milestone: str
    outcome: str
    """The latest session's outcome, or `retrying` when it failed and will run again."""
    error_class: str
    sessions: int
    duration_s: float
    turns: int
    cost_usd: float
    host: str
    files_changed: int
    gate: str
    pr_url: str


@dataclass
class Group:
    """Figures of a group of issues (a label, a milestone) or sessions (a host)."""

    count: int = 0
    succeeded: int = 0
    failed: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0

    def add(self, outcome: str, cost: float, duration: float) -> None:
        self.count += 1
        self.succeeded += outcome == "succeeded"
        self.failed += outcome == "failed"
        self.cost_usd += cost
        self.duration_s += duration


@dataclass(frozen=True)
class Results:
    rows: tuple[SessionRow, ...]
    since: float | None = None
    until: float | None = None
    issues: tuple[IssueResult, ...] = field(default=())
    milestones: tuple[dict[str, Any], ...] = ()
    """Where each milestone stands now (`text.milestone_text.milestone_rows`), when the caller had a snapshot."""

    def figures(self) -> dict[str, Any]:
        """Everything a report shows, as plain data (what `--format json` prints)."""
        return report_figures(self)


def collect(events: Iterable[ev.Event], *, since: float | None = None, until: float | None = None) -> Results:
    """One row per SessionFinished at or after `since` (and before `until`), oldest first."""
    issues: dict[str, Issue] = {}
    sessions: dict[str, SessionInfo] = {}
    facts: dict[str, dict[str, int | float | str]] = {}
    rows: list[SessionRow] = []
    for event in events:
        match event:
            case ev.IssueSeen(issue_data=issue):
                issues[issue.key] = issue
            case ev.SessionStarted(session=session):
                sessions[session.session_id] = session
            case ev.StepFinished(session_id=session_id, facts=step_facts):
                facts.setdefault(session_id, {}).update(step_facts)
            case ev.SessionFinished(result=result) if result.error_class is ErrorClass.LOST:
                pass  # its agent never started: no session to count, started again
            case ev.SessionFinished() if (since is None or event.ts >= since) and (until is None or event.ts < until):
                rows += _rows(event, issues.get(event.issue), sessions.get(event.session_id), facts.get(event.session_id, {}))
    return Results(rows=tuple(rows), since=since, until=until, issues=tuple(_issues(rows)))


def _rows(event: ev.SessionFinished, issue: Issue | None, session: SessionInfo | None, facts: dict[str, int | float | str]) -> list[SessionRow]:
    """The session's row; one per round where a gate sent the work back to the agent where it ran,
    each an attempt of its own (as local gate rounds are sessions of their own)."""
    last = _row(event, issue, session, facts)
    rounds = event.result.earlier_rounds
    if not rounds:
        return [last]
    earlier = [
        replace(last, session_id=round_.session_id, attempt=round_.attempt, outcome="failed",
                error_class=round_.error_class.value if round_.error_class else "", error=round_.error, will_retry=True,
                duration_s=round_.duration_s, turns=round_.turns, cost_usd=round_.cost_usd, commits=0, files_changed=0, gate="failed", pr_url="")
        for round_ in rounds
    ]
    return [*earlier, replace(last, attempt=last.attempt + len(rounds))]


def _row(event: ev.SessionFinished, issue: Issue | None, session: SessionInfo | None, facts: dict[str, int | float | str]) -> SessionRow:
    result = event.result
    return SessionRow(
        issue=event.issue, title=issue.title if issue else "", labels=issue.labels if issue else (),
        milestone=(issue.milestone or "") if issue else "", session_id=event.session_id,
        attempt=session.attempt if session else 0, outcome=result.outcome.value,
        error_class=result.error_class.value if result.error_class else "", error=result.error,
        will_retry=event.will_retry, started_at=session.started_at if session else event.ts - result.duration_s,
        finished_at=event.ts, duration_s=result.duration_s, turns=result.turns, cost_usd=result.cost_usd,
        host=session.host if session else "", executor=session.executor if session else "",
        agent=session.agent if session else "", commits=result.commits, files_changed=result.files_changed,
        gate=str(facts.get("gate", "")), pr_url=str(facts.get("pr_url", "")),
    )


def _issues(rows: list[SessionRow]) -> list[IssueResult]:
    by_issue: dict[str, list[SessionRow]] = {}
    for row in rows:
        by_issue.setdefault(row.issue, []).append(row)
    found = []
    for key, own in by_issue.items():
        last = own[-1]
        outcome = "retrying" if last.outcome == "failed" and last.will_retry else last.outcome
        found.append(IssueResult(
            issue=key, title=last.title, labels=last.labels, milestone=last.milestone, outcome=outcome,
            error_class=last.error_class, sessions=len(own), duration_s=sum(r.duration_s for r in own),
            turns=sum(r.turns for r in own), cost_usd=sum(r.cost_usd for r in own), host=last.host,
            files_changed=last.files_changed, gate=last.gate, pr_url=next((r.pr_url for r in reversed(own) if r.pr_url), ""),
        ))
    return found


def _grouped(pairs: Iterable[tuple[str, str, float, float]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, Group] = {}
    for name, outcome, cost, duration in pairs:
        groups.setdefault(name, Group()).add(outcome, cost, duration)
    return {name: asdict(group) for name, group in sorted(groups.items(), key=lambda item: (-item[1].count, item[0]))}


def cost_over_time(rows: tuple[SessionRow, ...]) -> list[dict[str, float]]:
    """Cost and sessions per hour (per day when the rows span more than three days), gaps filled."""
    if not rows:
        return []
    first, last = min(r.finished_at for r in rows), max(r.finished_at for r in rows)
    step = DAY_S if last - first > 3 * DAY_S else 3600.0
    start = first - first % step
    buckets = [{"start": start + i * step, "cost_usd": 0.0, "sessions": 0} for i in range(int((last - start) // step) + 1)]
    for row in rows:
        bucket = buckets[int((row.finished_at - start) // step)]
        bucket["cost_usd"] += row.cost_usd
        bucket["sessions"] += 1
    return buckets


def report_figures(results: Results) -> dict[str, Any]:
    rows, issues = results.rows, results.issues
    outcomes = {name: sum(1 for i in issues if i.outcome == name) for name in ("succeeded", "failed", "retrying", "cancelled")}
    failures: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.outcome == "failed":
            entry = failures.setdefault(row.error_class or "unknown", {"sessions": 0, "issues": set()})
            entry["sessions"] += 1
            entry["issues"].add(row.issue)
    known = ErrorClass._value2member_map_
    return {
        "since": results.since, "until": results.until,
        "totals": {
            "issues": len(issues), "sessions": len(rows), **outcomes,
            "cost_usd": sum(r.cost_usd for r in rows), "duration_s": sum(r.duration_s for r in rows),
            "turns": sum(r.turns for r in rows), "commits": sum(r.commits for r in rows),
            "pull_requests": len({i.pr_url for i in issues if i.pr_url}),
            "gate_failures": sum(1 for r in rows if r.gate == "failed"),
        },
        "by_label": _grouped((label, i.outcome, i.cost_usd, i.duration_s) for i in issues for label in (i.labels or ("(none)",))),
        "by_milestone": _grouped((i.milestone or "(none)", i.outcome, i.cost_usd, i.duration_s) for i in issues),
        "by_host": _grouped((r.host or "(unknown)", r.outcome, r.cost_usd, r.duration_s) for r in rows),
        "slowest": [asdict(i) for i in sorted(issues, key=lambda i: (-i.duration_s, i.issue))[:TOP_N]],
        "most_expensive": [asdict(i) for i in sorted(issues, key=lambda i: (-i.cost_usd, i.issue))[:TOP_N]],
        "failures": [
            {"error_class": name, "sessions": entry["sessions"], "issues": len(entry["issues"]),
             "advice": advice_for(ErrorClass(name) if name in known else None)}
            for name, entry in sorted(failures.items(), key=lambda item: (-item[1]["sessions"], item[0]))
        ],
        "cost_over_time": cost_over_time(rows),
        "issues": [asdict(i) for i in issues],
        "milestones": list(results.milestones),
    }
