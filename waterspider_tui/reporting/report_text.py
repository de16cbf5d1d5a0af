"""The results report as Markdown or JSON, and the few lines a headless run ends with."""

from __future__ import annotations

import json
import time
from typing import Any

from waterspider_tui.reporting.results import Results
from waterspider_tui.text.event_text import duration
from waterspider_tui.text.milestone_text import milestones_markdown
from waterspider_tui.text.plural import counted


def utc(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts)) if ts is not None else "–"


def money(value: float) -> str:
    return f"${value:,.2f}"


def window(results: Results) -> str:
    rows = results.rows
    if not rows:
        return "No session finished" + (f" since {utc(results.since)}" if results.since else "") + "."
    start = results.since if results.since is not None else min(r.finished_at for r in rows)
    return f"Sessions finished from {utc(start)} to {utc(max(r.finished_at for r in rows))}."


def summary_lines(results: Results) -> list[str]:
    """What `--no-ui --until-idle` prints at the end: the totals, then each failure class with its advice."""
    figures = results.figures()
    totals = figures["totals"]
    lines = [
        f"{counted(totals['issues'], 'issue')}: {totals['succeeded']} succeeded, {totals['failed']} failed, "
        f"{totals['retrying']} retrying, {totals['cancelled']} cancelled · {counted(totals['sessions'], 'session')} · "
        f"{money(totals['cost_usd'])} · {duration(totals['duration_s'])} of agent time · {counted(totals['pull_requests'], 'pull request')}"
        # The counts are of issues a session ended for: the others seen are said, not left out unsaid.
        + (f" · {results.unfinished} more seen, no session of theirs ended" if results.unfinished else ""),
    ]
    lines += [f"  {failure_name(f)} ×{f['sessions']}: {f['advice']}" for f in figures["failures"]]
    return lines


def failure_name(failure: dict[str, Any]) -> str:
    """The failure class, with the rounds a gate took before it failed the issue ('gate_failed after 3 rounds')."""
    rounds = failure.get("rounds", 1)
    return f"{failure['error_class']} after {rounds} rounds" if rounds > 1 else failure["error_class"]


def to_json(results: Results) -> str:
    return json.dumps(results.figures(), indent=2, sort_keys=False) + "\n"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ").strip() or "–"


def issues_named(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures with each issue named as the tables show it: a local folder's issues by number
    (`#7`, not the internal `local#7`) while they are all there is; GitHub issues by `owner/name#7`."""
    lists = ("issues", "slowest", "most_expensive")
    repos = {str(entry["issue"]).rpartition("#")[0] for name in lists for entry in figures.get(name, [])}
    if len(repos) > 1 or any("/" in repo for repo in repos):
        return figures
    return {**figures, **{name: [{**entry, "issue": "#" + str(entry["issue"]).rpartition("#")[2]} for entry in figures.get(name, [])] for name in lists}}


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _groups(title: str, groups: dict[str, dict[str, Any]], what: str) -> str:
    rows = [[name, g["count"], g["succeeded"], g["failed"], money(g["cost_usd"]), duration(g["duration_s"])] for name, g in groups.items()]
    return f"## By {title}\n\n" + _table([title.capitalize(), what, "Succeeded", "Failed", "Cost", "Agent time"], rows)


def _issue_rows(issues: list[dict[str, Any]]) -> list[list[Any]]:
    return [[i["issue"], i["title"], i["outcome"] + (f" ({i['error_class']})" if i["error_class"] else ""), duration(i["duration_s"]),
             money(i["cost_usd"]), i["sessions"]] for i in issues]


def to_markdown(results: Results) -> str:
    figures = issues_named(results.figures())
    totals = figures["totals"]
    parts = ["# Waterspider results", window(results)]
    parts.append(_table(
        ["Issues", "Succeeded", "Failed", "Retrying", "Cancelled", "Sessions", "Cost", "Agent time", "Turns", "Pull requests"],
        [[totals["issues"], totals["succeeded"], totals["failed"], totals["retrying"], totals["cancelled"], totals["sessions"],
          money(totals["cost_usd"]), duration(totals["duration_s"]), totals["turns"], totals["pull_requests"]]],
    ))
    if figures["failures"]:
        parts.append("## Failures\n\n" + _table(
            ["Class", "Sessions", "Issues", "What to do"],
            [[failure_name(f), f["sessions"], f["issues"], f["advice"]] for f in figures["failures"]]))
    head = ["Issue", "Title", "Outcome", "Took", "Cost", "Sessions"]
    parts.append("## Slowest issues\n\n" + _table(head, _issue_rows(figures["slowest"])))
    parts.append("## Most expensive issues\n\n" + _table(head, _issue_rows(figures["most_expensive"])))
    parts.append(_groups("label", figures["by_label"], "Issues"))
    parts.append(_groups("milestone", figures["by_milestone"], "Issues"))
    if figures["milestones"]:
        parts.append(milestones_markdown(figures["milestones"]))
    parts.append(_groups("host", figures["by_host"], "Sessions"))
    if figures["cost_over_time"]:
        parts.append("## Cost over time\n\n" + _table(
            ["From", "Sessions", "Cost"], [[utc(b["start"]), b["sessions"], money(b["cost_usd"])] for b in figures["cost_over_time"]]))
    parts.append("## Issues\n\n" + _table(
        ["Issue", "Title", "Outcome", "Sessions", "Took", "Turns", "Cost", "Host", "Gate", "Pull request"],
        [[i["issue"], i["title"], i["outcome"] + (f" ({i['error_class']})" if i["error_class"] else ""), i["sessions"],
          duration(i["duration_s"]), i["turns"], money(i["cost_usd"]), i["host"], i["gate"], i["pr_url"]] for i in figures["issues"]]))
    return "\n\n".join(parts) + "\n"
