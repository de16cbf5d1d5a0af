"""The result aggregator: every finished session of every executor, from the store's events, and its figures.

Pure: it folds events (as the store gives them back) into one row per finished session, then
into totals, per-label, per-milestone and per-host figures, the slowest and most expensive
issues, failure classes with their advice and cost over time. `waterspider report` renders
them as Markdown, JSON or HTML; the figures are sums over the rows, so they always match
the events they come from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Sequence

from waterspider_tui.core import events as ev
from waterspider_tui.core.advice import advice_for
from waterspider_tui.core.models import ErrorClass, Issue, SessionInfo
from waterspider_tui.text.plural import counted

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
    rounds: int = 1
    """Rounds of its latest attempt: each gate round that sent the work back to the agent, and the last."""


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
    unfinished: int = 0
    """Open issues seen in the slice with no session finished in it (a run stopped right after dispatch)."""

    def figures(self) -> dict[str, Any]:
        """Everything a report shows, as plain data (what `--format json` prints)."""
        return report_figures(self)


def collect(events: Iterable[ev.Event], *, since: float | None = None, until: float | None = None) -> Results:
    """One row per SessionFinished at or after `since` (and before `until`), oldest first."""
    issues: dict[str, Issue] = {}
    sessions: dict[str, SessionInfo] = {}
    facts: dict[str, dict[str, int | float | str]] = {}
    rows: list[SessionRow] = []
    seen_in_window: set[str] = set()
    for event in events:
        match event:
            case ev.IssueSeen(issue_data=issue):
                issues[issue.key] = issue
                if (since is None or event.ts >= since) and (until is None or event.ts < until):
                    seen_in_window.add(issue.key)
            case ev.SessionStarted(session=session):
                sessions[session.session_id] = session
            case ev.StepFinished(session_id=session_id, facts=step_facts):
                facts.setdefault(session_id, {}).update(step_facts)
            case ev.SessionFinished(result=result) if result.error_class is ErrorClass.LOST:
                pass  # its agent never started: no session to count, started again
            case ev.SessionFinished() if (since is None or event.ts >= since) and (until is None or event.ts < until):
                rows += _rows(event, issues.get(event.issue), sessions.get(event.session_id), facts.get(event.session_id, {}))
    in_window = {key for key, issue in issues.items() if not issue.closed and key in seen_in_window}
    unfinished = len(in_window - {row.issue for row in rows})
    return Results(rows=tuple(rows), since=since, until=until, issues=tuple(_issues(rows)), unfinished=unfinished)


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


def sent_back(row: SessionRow) -> bool:
    """A gate round that sent the work back to the agent: a round of the attempt, not a failure of the issue."""
    return row.outcome == "failed" and row.error_class == ErrorClass.GATE_FAILED.value and row.will_retry


def attempts(rows: Sequence[SessionRow]) -> int:
    """Sessions with the gate rounds of one attempt counted once: a row begins an attempt unless the row before sent it back."""
    return sum(1 for index, row in enumerate(rows) if index == 0 or not sent_back(rows[index - 1]))


def last_attempt_rounds(rows: Sequence[SessionRow]) -> int:
    """How many rounds the issue's latest attempt has had (1 when its gate sent nothing back)."""
    rounds = 1
    for row in reversed(rows[:-1]):
        if not sent_back(row):
            break
        rounds += 1
    return rounds


def gate_text(last: SessionRow, rounds: int) -> str:
    """The gate's verdict with the rounds it took: '2 rounds sent back, then passed', 'failed after 3 rounds'."""
    if rounds == 1 and not sent_back(last):
        return last.gate
    if sent_back(last):
        return f"{counted(rounds, 'round')} sent back so far"
    back = counted(rounds - 1, "round")
    if last.gate == "passed":
        return f"{back} sent back, then passed"
    if last.error_class == ErrorClass.GATE_FAILED.value:
        return f"failed after {rounds} rounds"
    return f"{back} sent back, then {last.gate or last.outcome}"


def _issues(rows: list[SessionRow]) -> list[IssueResult]:
    by_issue: dict[str, list[SessionRow]] = {}
    for row in rows:
        by_issue.setdefault(row.issue, []).append(row)
    found = []
    for key, own in by_issue.items():
        last = own[-1]
        rounds = last_attempt_rounds(own)
        outcome = "retrying" if last.outcome == "failed" and last.will_retry else last.outcome
        found.append(IssueResult(
            issue=key, title=last.title, labels=last.labels, milestone=last.milestone, outcome=outcome,
            error_class=last.error_class, sessions=attempts(own), duration_s=sum(r.duration_s for r in own),
            turns=sum(r.turns for r in own), cost_usd=sum(r.cost_usd for r in own), host=last.host,
            files_changed=last.files_changed, gate=gate_text(last, rounds),
            pr_url=next((r.pr_url for r in reversed(own) if r.pr_url), ""),
            rounds=rounds,
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
    previous: dict[str, SessionRow] = {}
    for row in rows:
        bucket = buckets[int((row.finished_at - start) // step)]
        bucket["cost_usd"] += row.cost_usd
        # A gate round after one sent back continues its attempt: counted once, where it began.
        bucket["sessions"] += not (row.issue in previous and sent_back(previous[row.issue]))
        previous[row.issue] = row
    return buckets


def report_figures(results: Results) -> dict[str, Any]:
    rows, issues = results.rows, results.issues
    outcomes = {name: sum(1 for i in issues if i.outcome == name) for name in ("succeeded", "failed", "retrying", "cancelled")}
    failures: dict[str, dict[str, Any]] = {}
    rounds_of = {i.issue: i.rounds for i in issues}
    for row in rows:
        if row.outcome == "failed" and not sent_back(row):
            entry = failures.setdefault(row.error_class or "unknown", {"sessions": 0, "issues": set(), "rounds": set()})
            entry["sessions"] += 1
            entry["issues"].add(row.issue)
            if row.error_class == ErrorClass.GATE_FAILED.value:
                entry["rounds"].add(rounds_of.get(row.issue, 1))
    known = ErrorClass._value2member_map_
    return {
        "since": results.since, "until": results.until,
        "totals": {
            "issues": len(issues), "sessions": sum(i.sessions for i in issues), **outcomes,
            "cost_usd": sum(r.cost_usd for r in rows), "duration_s": sum(r.duration_s for r in rows),
            "turns": sum(r.turns for r in rows), "commits": sum(r.commits for r in rows),
            "pull_requests": len({i.pr_url for i in issues if i.pr_url}),
            "gate_failures": sum(1 for r in rows if r.gate == "failed"),
        },
        "by_label": _grouped((label, i.outcome, i.cost_usd, i.duration_s) for i in issues for label in (i.labels or ("(none)",))),
        "by_milestone": _grouped((i.milestone or "(none)", i.outcome, i.cost_usd, i.duration_s) for i in issues),
        "by_host": _grouped((r.host or "(unknown)", "sent back" if sent_back(r) else r.outcome, r.cost_usd, r.duration_s) for r in rows),
        "slowest": [asdict(i) for i in sorted(issues, key=lambda i: (-i.duration_s, i.issue))[:TOP_N]],
        "most_expensive": [asdict(i) for i in sorted(issues, key=lambda i: (-i.cost_usd, i.issue))[:TOP_N]],
        "failures": [
            {"error_class": name, "sessions": entry["sessions"], "issues": len(entry["issues"]), "rounds": max(entry["rounds"], default=1),
             "advice": advice_for(ErrorClass(name) if name in known else None)}
            for name, entry in sorted(failures.items(), key=lambda item: (-item[1]["sessions"], item[0]))
        ],
        "cost_over_time": cost_over_time(rows),
        "issues": [asdict(i) for i in issues],
        "milestones": list(results.milestones),
    }
