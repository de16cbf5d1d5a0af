"""The results report as one HTML file: figures, tables and inline SVG charts, nothing fetched."""

from __future__ import annotations

import time
from html import escape
from typing import Any

from waterspider_tui.reporting.report_charts import OUTCOME_COLORS, bars, columns, stacked_bar
from waterspider_tui.reporting.report_text import issues_named, money, utc, window
from waterspider_tui.reporting.results import Results
from waterspider_tui.text.event_text import duration

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 0 0 12px; }
.muted { color: #59636e; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(110px, 1fr)); gap: 12px; margin: 18px 0; }
.card, section { background: #fff; border: 1px solid #d1d9e0; border-radius: 8px; }
.card { padding: 12px 14px; } .card b { display: block; font-size: 22px; } .card span { color: #59636e; }
section { padding: 16px; margin: 16px 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { color: #59636e; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.tag { display: inline-block; padding: 0 6px; border-radius: 10px; color: #fff; font-size: 12px; }
"""


def _outcome(outcome: str, error_class: str = "") -> str:
    color = OUTCOME_COLORS.get(outcome, "#8a8f98")
    extra = f" {escape(error_class)}" if error_class else ""
    return f'<span class="tag" style="background:{color}">{escape(outcome)}</span>{extra}'


def _table(header: list[str], rows: list[list[str]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{cell}</td>' if index in numeric else f"<td>{cell}</td>" for index, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td>–</td></tr>'}</tbody></table>"


def _link(url: str) -> str:
    if not url:
        return ""
    text = "#" + url.rsplit("/", 1)[-1] if "/pull/" in url else url
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def _issue_rows(issues: list[dict[str, Any]]) -> list[list[str]]:
    return [[escape(i["issue"]), escape(i["title"]), _outcome(i["outcome"], i["error_class"]), escape(duration(i["duration_s"])),
             escape(money(i["cost_usd"])), str(i["sessions"])] for i in issues]


def _groups(title: str, groups: dict[str, dict[str, Any]], what: str) -> str:
    rows = [[escape(name), str(g["count"]), str(g["succeeded"]), str(g["failed"]), escape(money(g["cost_usd"])),
             escape(duration(g["duration_s"]))] for name, g in groups.items()]
    by_cost = sorted(groups.items(), key=lambda item: -item[1]["cost_usd"])
    chart = bars([(name, g["cost_usd"]) for name, g in by_cost], f"Cost by {title}", money)
    return (f"<section><h2>By {escape(title)}</h2>{chart}"
            + _table([title.capitalize(), what, "Succeeded", "Failed", "Cost", "Agent time"], rows, {1, 2, 3, 4}) + "</section>")


def _milestone_progress(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    body = [[escape(row["milestone"]), str(len(row["done"])), str(len(row["running"])), str(len(row["blocked"])), str(len(row["failed"])),
             str(row["total"]), escape(", ".join("#" + key.rpartition("#")[2] for key in row["blocking"]) or "–"),
             escape(f"closed (pull request #{row['closed_by_pull_request']} merged)" if row["closed_by_pull_request"]
                    else row["integration"]["words"] if row["integration"] else "–")] for row in rows]
    return "<section><h2>Milestones</h2>" + _table(
        ["Milestone", "Done", "Running", "Blocked", "Failed", "Total", "Blocked by", "Integration"], body, {1, 2, 3, 4, 5}) + "</section>"


def to_html(results: Results, *, title: str = "Waterspider results", generated_at: float | None = None) -> str:
    figures = issues_named(results.figures())
    totals = figures["totals"]
    cards = [
        ("Issues", str(totals["issues"])), ("Succeeded", str(totals["succeeded"])), ("Failed", str(totals["failed"])),
        ("Retrying", str(totals["retrying"])), ("Sessions", str(totals["sessions"])), ("Cost", money(totals["cost_usd"])),
        ("Agent time", duration(totals["duration_s"])), ("Pull requests", str(totals["pull_requests"])),
    ]
    outcome_parts = [(name, float(totals[name])) for name in ("succeeded", "failed", "retrying", "cancelled")]
    buckets = figures["cost_over_time"]
    hourly = len(buckets) < 2 or buckets[1]["start"] - buckets[0]["start"] < 86_400
    stamp = "%H:%M" if hourly else "%m-%d"
    cost_chart = columns([(time.strftime(stamp, time.gmtime(b["start"])), b["cost_usd"]) for b in buckets], "Cost over time", money)
    failures = figures["failures"]
    failure_chart = bars([(f["error_class"], f["sessions"]) for f in failures], "Failed sessions by class", lambda v: f"{v:g}", "#d1453b")
    hosts = figures["by_host"]
    host_chart = bars([(name, g["count"]) for name, g in hosts.items()], "Sessions by host", lambda v: f"{v:g}")
    generated = utc(generated_at if generated_at is not None else time.time())
    parts = [
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1><div class=\"muted\">{escape(window(results))} Generated {escape(generated)}.</div>",
        '<div class="cards">' + "".join(f'<div class="card"><b>{escape(value)}</b><span>{escape(name)}</span></div>' for name, value in cards) + "</div>",
        f"<section><h2>Outcomes of the issues</h2>{stacked_bar(outcome_parts, 'Outcomes of the issues')}</section>",
        f'<div class="grid"><section><h2>Cost over time (UTC)</h2>{cost_chart}</section>'
        f"<section><h2>Sessions by host</h2>{host_chart}</section></div>",
        f"<section><h2>Failures</h2>{failure_chart}"
        + _table(["Class", "Sessions", "Issues", "What to do"],
                 [[escape(f["error_class"]), str(f["sessions"]), str(f["issues"]), escape(f["advice"])] for f in failures], {1, 2})
        + "</section>",
        '<div class="grid">'
        + f'<section><h2>Slowest issues</h2>{_table(["Issue", "Title", "Outcome", "Took", "Cost", "Sessions"], _issue_rows(figures["slowest"]), {3, 4, 5})}</section>'
        + f'<section><h2>Most expensive issues</h2>{_table(["Issue", "Title", "Outcome", "Took", "Cost", "Sessions"], _issue_rows(figures["most_expensive"]), {3, 4, 5})}</section>'
        + "</div>",
        _groups("label", figures["by_label"], "Issues"),
        _groups("milestone", figures["by_milestone"], "Issues"),
        _milestone_progress(figures["milestones"]),
        _groups("host", hosts, "Sessions"),
        "<section><h2>Every issue</h2>" + _table(
            ["Issue", "Title", "Outcome", "Sessions", "Took", "Turns", "Cost", "Host", "Gate", "Pull request"],
            [[escape(i["issue"]), escape(i["title"]), _outcome(i["outcome"], i["error_class"]), str(i["sessions"]),
              escape(duration(i["duration_s"])), str(i["turns"]), escape(money(i["cost_usd"])), escape(i["host"]),
              escape(i["gate"]), _link(i["pr_url"])] for i in figures["issues"]], {3, 4, 5, 6}) + "</section>",
        "</main></body></html>\n",
    ]
    return "".join(parts)
